/**
 * Test runs as the agent publishes them on `##vso[results.publish]`: it reads the result
 * files the command names and records the run's totals, which the report shows as the
 * Tests tab would.
 */
import { existsSync, readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import type { TestRunRecord } from './record';

/** The test run a `results.publish` command describes, or undefined when it names no readable JUnit file. */
export function summarizeTestRun(
  properties: Readonly<Record<string, string>>,
  job: string,
): TestRunRecord | undefined {
  const property = (name: string) =>
    Object.entries(properties).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  const format = property('type') ?? 'JUnit';
  const files = (property('resultFiles') ?? '')
    .split(',')
    .map((file) => file.trim())
    .filter((file) => file && existsSync(file));
  if (files.length === 0 || !/^junit$/i.test(format)) return undefined;
  const totals = { total: 0, passed: 0, failed: 0, skipped: 0 };
  const failedTests: string[] = [];
  for (const file of files) {
    for (const testcase of junitCases(readFileSync(file, 'utf8'))) {
      totals.total += 1;
      if (testcase.outcome === 'failed') {
        totals.failed += 1;
        failedTests.push(testcase.name);
      } else if (testcase.outcome === 'skipped') totals.skipped += 1;
      else totals.passed += 1;
    }
  }
  return {
    title: property('runTitle') || `${format} test run`,
    format,
    ...totals,
    failedTests,
    job,
  };
}

interface JunitCase {
  readonly name: string;
  readonly outcome: 'passed' | 'failed' | 'skipped';
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['testsuite', 'testcase'].includes(name),
});

/** Every test case in a JUnit file, nested suites included. */
export function junitCases(xml: string): JunitCase[] {
  const document = parser.parse(xml) as Record<string, unknown>;
  const cases: JunitCase[] = [];
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const entry = node as Record<string, unknown>;
    for (const testcase of (entry.testcase as Record<string, unknown>[] | undefined) ?? []) {
      const name = [testcase.classname, testcase.name].filter(Boolean).join('.');
      const outcome =
        'failure' in testcase || 'error' in testcase
          ? 'failed'
          : 'skipped' in testcase
            ? 'skipped'
            : 'passed';
      cases.push({ name, outcome });
    }
    for (const suite of (entry.testsuite as unknown[] | undefined) ?? []) visit(suite);
    if (entry.testsuites) visit(entry.testsuites);
  };
  visit(document);
  return cases;
}
