/**
 * Test runs as the agent publishes them on `##vso[results.publish]`: it reads the result
 * files the command names and records the run's totals, which the report shows as the
 * Tests tab would. Files are read with the parser PublishTestResults@2 uses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseTestResults, totalsOf, type ParsedFormat } from '../builtin/test-results';
import type { TestRunRecord } from './record';

const formats: Readonly<Record<string, ParsedFormat>> = { junit: 'JUnit', vstest: 'VSTest' };

/** The test run a `results.publish` command describes, or undefined when it names no readable file. */
export function summarizeTestRun(
  properties: Readonly<Record<string, string>>,
  job: string,
): TestRunRecord | undefined {
  const property = (name: string) =>
    Object.entries(properties).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  const format = formats[(property('type') ?? 'JUnit').toLowerCase()];
  const files = (property('resultFiles') ?? '')
    .split(',')
    .map((file) => file.trim())
    .filter((file) => file && existsSync(file));
  if (!format || files.length === 0) return undefined;
  try {
    const cases = files.flatMap((file) => parseTestResults(format, readFileSync(file, 'utf8')));
    return {
      title: property('runTitle') || `${format} test run`,
      format,
      ...totalsOf(cases),
      failedTests: cases
        .filter((each) => each.outcome === 'failed')
        .map((each) => [each.container, each.name].filter(Boolean).join('.')),
      job,
    };
  } catch {
    // The task that published the run has already said what is wrong with the file.
    return undefined;
  }
}
