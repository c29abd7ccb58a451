/**
 * PublishCodeCoverageResults@2 (Tasks/PublishCodeCoverageResultsV2) and @1, which the agent
 * accepts with its deprecation warnings and which runs the same way here. The summary files
 * are found with findMatch from System.DefaultWorkingDirectory, read (Cobertura or lcov),
 * and their line and branch coverage printed and uploaded as a markdown summary. @1 also
 * emits the `##vso[codecoverage.publish]` command task-lib's CodeCoveragePublisher writes.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltinContext, BuiltinResult } from './types';
import { deprecationWarnings, taskData, taskMessage } from './definitions';
import {
  addCoverage,
  CoverageFormatError,
  formatCount,
  parseCoverage,
  type CoverageSummary,
} from './coverage';
import { command, issueCommand, uploadSummaryCommand } from './support/commands';
import { settle, StepFailure } from './support/failure';
import { findFiles } from './support/glob';
import { booleanInput, choiceInput, lineList, requiredInput, textInput } from './support/inputs';

const version2 = taskData('PublishCodeCoverageResults', 2);
const version1 = taskData('PublishCodeCoverageResults', 1);

/** Runs a PublishCodeCoverageResults@2 step: every file every pattern matches. */
export function runPublishCodeCoverage(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const patterns = lineList(requiredInput(context, 'summaryFileLocation'));
    const failIfEmpty = booleanInput(context, 'failIfCoverageEmpty');
    const files: string[] = [];
    for (const pattern of patterns) {
      const matches = findFiles(context.workingDirectory, [pattern]);
      context.output(taskMessage(version2, 'FoundNMatchesForPattern', matches.length, pattern));
      for (const match of matches) context.output(match);
      files.push(...matches.filter((file) => !files.includes(file)));
    }
    return publish(context, files, { failIfEmpty, version: 2 });
  });
}

/** Runs a PublishCodeCoverageResults@1 step: deprecated, Cobertura only, the first match of one pattern. */
export function runPublishCodeCoverageV1(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    for (const warning of deprecationWarnings(version1)) context.output(issueCommand('warning', warning));
    const tool = choiceInput(context, 'codeCoverageTool', ['Cobertura', 'JaCoCo'], 'JaCoCo');
    if (tool === 'JaCoCo') {
      throw new StepFailure(
        'codeCoverageTool JaCoCo is not read by the local runner: write Cobertura XML (JaCoCo can be converted), or use PublishCodeCoverageResults@2.',
      );
    }
    const pattern = requiredInput(context, 'summaryFileLocation');
    const matches = findFiles(context.workingDirectory, [pattern]);
    if (matches.length > 1) context.output(taskMessage(version1, 'MultipleSummaryFilesFound', matches[0]));
    const files = matches.slice(0, 1);
    const result = await publish(context, files, {
      failIfEmpty: booleanInput(context, 'failIfCoverageEmpty'),
      version: 1,
    });
    if (result.status !== 'Failed' && files.length > 0) {
      context.output(
        command('codecoverage.publish', {
          codecoveragetool: tool,
          summaryfile: files[0]!,
          reportdirectory: textInput(context, 'reportDirectory'),
          additionalcodecoveragefiles: textInput(context, 'additionalCodeCoverageFiles'),
        }),
      );
    }
    return result;
  });
}

/** Reads, prints and summarises the files; empty coverage fails only with failIfEmpty. */
async function publish(
  context: BuiltinContext,
  files: readonly string[],
  options: { readonly failIfEmpty: boolean; readonly version: 1 | 2 },
): Promise<BuiltinResult> {
  const noCoverage = taskMessage(version2, 'NoCodeCoverage');
  if (files.length === 0) {
    if (options.failIfEmpty) {
      throw new StepFailure(`${noCoverage} Check summaryFileLocation, or that the tests wrote coverage.`);
    }
    context.output(issueCommand('warning', noCoverage));
    return { status: 'Succeeded' };
  }
  const summaries: { file: string; summary: CoverageSummary }[] = [];
  for (const file of files) {
    try {
      summaries.push({ file, summary: parseCoverage(readFileSync(file, 'utf8')) });
    } catch (error) {
      if (!(error instanceof CoverageFormatError)) throw error;
      throw new StepFailure(
        `${file} is not a Cobertura or lcov summary (${error.message}): point summaryFileLocation at one.`,
      );
    }
  }
  const total = addCoverage(summaries.map((entry) => entry.summary));
  if (total.lines.valid === 0 && options.failIfEmpty) {
    throw new StepFailure(
      `${noCoverage} The summary counts no lines: check that the tests ran with coverage on.`,
    );
  }
  context.output(`Line coverage: ${formatCount(total.lines)}`);
  if (total.branches) context.output(`Branch coverage: ${formatCount(total.branches)}`);

  const summaryFile = join(context.dirs.temp, `code-coverage-${randomUUID()}.md`);
  writeFileSync(summaryFile, summaryMarkdown(context, summaries, total));
  context.output(uploadSummaryCommand(summaryFile));
  return { status: 'Succeeded' };
}

function summaryMarkdown(
  context: BuiltinContext,
  summaries: readonly { file: string; summary: CoverageSummary }[],
  total: Omit<CoverageSummary, 'format'>,
): string {
  const lines = ['# Code coverage', '', '| | Lines | Branches |', '| --- | ---: | ---: |'];
  const row = (name: string, summary: Omit<CoverageSummary, 'format'>) =>
    `| ${name} | ${formatCount(summary.lines)} | ${summary.branches ? formatCount(summary.branches) : 'n/a'} |`;
  lines.push(row('**Total**', total));
  if (summaries.length > 1)
    for (const entry of summaries) lines.push(row(`\`${entry.file}\``, entry.summary));
  const sources = textInput(context, 'pathToSources');
  lines.push(
    '',
    `Files: ${summaries.map((entry) => `\`${entry.file}\` (${entry.summary.format})`).join(', ')}`,
  );
  if (sources) lines.push('', `Sources: \`${sources}\``);
  return lines.join('\n') + '\n';
}
