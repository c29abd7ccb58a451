/**
 * PublishTestResults@2 on Linux (Tasks/PublishTestResultsV2/publishtestresults.ts): finds
 * the result files with findMatch under searchFolder and emits the `##vso[results.publish]`
 * command the real task emits. What the agent then does with that command
 * (ResultsCommandExtension in microsoft/azure-pipelines-agent) is done here, locally: read
 * the files, log the totals and every failed test by name, upload a markdown summary, and
 * fail on failed tests when failTaskOnFailedTests says so. JUnit and VSTest (.trx) are
 * read; NUnit, XUnit and CTest are refused in one line.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { firstLineExcerpt } from '../../tasks/shared/redaction';
import type { BuiltinContext, BuiltinResult } from './types';
import { taskData, taskMessage } from './definitions';
import { command, issueCommand, uploadSummaryCommand } from './support/commands';
import { settle, StepFailure } from './support/failure';
import { findFiles } from './support/glob';
import { booleanInput, choiceInput, rootedPath, textInput } from './support/inputs';
import {
  parseTestResults,
  ResultFileFormatError,
  totalsOf,
  type ParsedFormat,
  type TestCaseResult,
} from './test-results';

const task = taskData('PublishTestResults', 2);

/** Above this many files the real task merges them into one run, whatever mergeTestResults says. */
const mergeThreshold = 100;
/** The testRunSystem the real task names itself with. */
const testRunSystem = 'VSTS - PTR';
/** How much of a failure message goes into the log and the summary. */
const messageExcerptChars = 200;

/** Runs a PublishTestResults@2 step. */
export function runPublishTestResults(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const format = choiceInput(
      context,
      'testRunner',
      ['JUnit', 'NUnit', 'VSTest', 'XUnit', 'CTest'],
      'JUnit',
    );
    const patterns = (context.inputs.testResultsFiles ?? '').split('\n');
    const searchFolder = rootedPath(context, textInput(context, 'searchFolder') || context.workingDirectory);
    const failOnMissing = booleanInput(context, 'failTaskOnMissingResultsFile');
    const failOnFailedTests = booleanInput(context, 'failTaskOnFailedTests');
    const failOnPublishFailure = booleanInput(context, 'failTaskOnFailureToPublishResults');
    const mergeResults = booleanInput(context, 'mergeTestResults');
    const runTitle = textInput(context, 'testRunTitle');

    const files = findFiles(searchFolder, patterns);
    if (files.length === 0) {
      const missing = `${taskMessage(task, 'NoMatchingFilesFound', patterns)} (searched ${searchFolder})`;
      if (failOnMissing) {
        throw new StepFailure(
          `${missing}: check testResultsFiles and searchFolder, or that the tests wrote results.`,
        );
      }
      context.output(issueCommand('warning', missing));
      return { status: 'Succeeded' };
    }
    if (format !== 'JUnit' && format !== 'VSTest') {
      throw new StepFailure(
        `testResultsFormat ${format} is not read by the local runner: have the test runner write JUnit XML (most have a JUnit reporter), or VSTest .trx.`,
      );
    }
    const merge = files.length > mergeThreshold || mergeResults;
    context.output(
      command('results.publish', {
        type: format,
        mergeResults: files.length > mergeThreshold ? 'true' : textInput(context, 'mergeTestResults'),
        platform: textInput(context, 'platform'),
        config: textInput(context, 'configuration'),
        runTitle,
        publishRunAttachments: textInput(context, 'publishRunAttachments'),
        resultFiles: files.join(','),
        failTaskOnFailedTests: textInput(context, 'failTaskOnFailedTests'),
        failTaskOnFailureToPublishResults: textInput(context, 'failTaskOnFailureToPublishResults'),
        testRunSystem,
      }),
    );

    const runs = readRuns(context, format, files, {
      merge,
      title: runTitle || defaultTitle(context, format),
    });
    const unreadable = runs.flatMap((run) => run.unreadable);
    const summaryFile = join(context.dirs.temp, `test-results-${randomUUID()}.md`);
    writeFileSync(summaryFile, summaryMarkdown(runs));
    context.output(uploadSummaryCommand(summaryFile));

    const failed = runs.some((run) => totalsOf(run.results).failed > 0);
    if (unreadable.length > 0 && failOnPublishFailure) {
      return {
        status: 'Failed',
        message: `${invalidFileMessage(unreadable[0]!, format)} Fix the file or testResultsFiles.`,
      };
    }
    if (failed && failOnFailedTests) {
      return { status: 'Failed', message: taskMessage(task, 'ErrorFailTaskOnFailedTests') };
    }
    return { status: 'Succeeded' };
  });
}

/** One test run as Azure Pipelines would make it: a file, or all files merged. */
interface TestRun {
  readonly title: string;
  readonly files: readonly string[];
  readonly results: readonly TestCaseResult[];
  readonly unreadable: readonly string[];
}

function readRuns(
  context: BuiltinContext,
  format: ParsedFormat,
  files: readonly string[],
  options: { readonly merge: boolean; readonly title: string },
): TestRun[] {
  const groups = options.merge ? [files] : files.map((file) => [file]);
  return groups.map((group) => {
    const results: TestCaseResult[] = [];
    const unreadable: string[] = [];
    for (const file of group) {
      try {
        results.push(...parseTestResults(format, readFileSync(file, 'utf8')));
      } catch (error) {
        if (!(error instanceof ResultFileFormatError)) throw error;
        unreadable.push(file);
        context.output(issueCommand('warning', invalidFileMessage(file, format)));
      }
    }
    const run: TestRun = { title: options.title, files: group, results, unreadable };
    logRun(context, run);
    return run;
  });
}

/** The log of one run: what the agent prints, then totals and each failed test by name. */
function logRun(context: BuiltinContext, run: TestRun): void {
  context.output(`Publishing test results to test run '${run.title}'`);
  const totals = totalsOf(run.results);
  context.output(
    `Total tests: ${totals.total} - Passed: ${totals.passed}, Failed: ${totals.failed}, Skipped: ${totals.skipped} (${run.files.map((file) => basename(file)).join(', ')})`,
  );
  for (const result of run.results.filter((test) => test.outcome === 'failed')) {
    const message = result.message ? `: ${firstLineExcerpt(result.message, messageExcerptChars)}` : '';
    context.output(issueCommand('error', `Failed test: ${qualifiedName(result)}${message}`));
  }
}

function summaryMarkdown(runs: readonly TestRun[]): string {
  const lines: string[] = ['# Test results', ''];
  for (const run of runs) {
    const totals = totalsOf(run.results);
    lines.push(`## ${run.title}`, '');
    lines.push('| Total | Passed | Failed | Skipped |', '| ---: | ---: | ---: | ---: |');
    lines.push(`| ${totals.total} | ${totals.passed} | ${totals.failed} | ${totals.skipped} |`, '');
    const failed = run.results.filter((test) => test.outcome === 'failed');
    if (failed.length > 0) {
      lines.push('### Failed tests', '');
      for (const test of failed) {
        const message = test.message ? ` — ${firstLineExcerpt(test.message, messageExcerptChars)}` : '';
        lines.push(`- \`${qualifiedName(test)}\`${escapeMarkdown(message)}`);
      }
      lines.push('');
    }
    lines.push(`Files: ${run.files.map((file) => `\`${file}\``).join(', ')}`, '');
  }
  return lines.join('\n');
}

function qualifiedName(test: TestCaseResult): string {
  return test.container ? `${test.container}.${test.name}` : test.name;
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>|])/g, '\\$1');
}

/** The agent's run name when testRunTitle is empty (ResultsCommandExtension). */
function defaultTitle(context: BuiltinContext, format: string): string {
  return `${format}_TestResults_${context.variable('Build.BuildId') ?? ''}`;
}

/** The agent's InvalidResultFiles wording. */
function invalidFileMessage(file: string, format: string): string {
  return `Invalid results file. Make sure the result format of the file '${file}' matches '${format}' test results format.`;
}
