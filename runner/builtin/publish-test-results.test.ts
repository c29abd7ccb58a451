import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { taskData } from './definitions';
import { runPublishTestResults } from './publish-test-results';
import { createTestContext, type TestContext } from './testing/context';

const definition = taskData('PublishTestResults', 2);

/** Runs real tests with Node's own JUnit reporter, so the file is what a real runner writes. */
function writeNodeJUnit(folder: string, fileName: string): string {
  mkdirSync(folder, { recursive: true });
  const spec = join(folder, 'sample.test.js');
  writeFileSync(
    spec,
    [
      "const { describe, test } = require('node:test');",
      "const assert = require('node:assert');",
      "describe('calculator', () => {",
      "  test('adds', () => assert.equal(1 + 1, 2));",
      "  test('divides', () => assert.equal(1 / 1, 2, 'one over one is two'));",
      "  test('later', { skip: true }, () => {});",
      '});',
    ].join('\n'),
  );
  const output = join(folder, fileName);
  spawnSync(process.execPath, [
    '--test',
    '--test-reporter=junit',
    `--test-reporter-destination=${output}`,
    spec,
  ]);
  return output;
}

describe('PublishTestResults@2', () => {
  let step: TestContext | undefined;
  afterEach(() => step?.dispose());

  it('emits results.publish as the real task, logs totals and failed tests, and uploads a summary', async () => {
    step = createTestContext({
      definition,
      inputs: { testResultsFormat: 'JUnit', testResultsFiles: '**/TEST-*.xml', testRunTitle: 'Unit tests' },
    });
    const file = writeNodeJUnit(join(step.workingDirectory, 'out'), 'TEST-node.xml');
    assert.deepEqual(await runPublishTestResults(step.context), { status: 'Succeeded' });
    assert.equal(
      step.lines[0],
      `##vso[results.publish type=JUnit;mergeResults=false;runTitle=Unit tests;publishRunAttachments=true;resultFiles=${file};failTaskOnFailedTests=false;failTaskOnFailureToPublishResults=false;testRunSystem=VSTS - PTR;]`,
    );
    assert.deepEqual(step.lines.slice(1, 3), [
      "Publishing test results to test run 'Unit tests'",
      'Total tests: 3 - Passed: 1, Failed: 1, Skipped: 1 (TEST-node.xml)',
    ]);
    // Node 20's reporter names the class `test`, Node 24's the describe block.
    assert.match(
      step.lines[3]!,
      /^##vso\[task\.logissue type=error;\]Failed test: (test|calculator)\.divides: one over one is two$/,
    );
    const upload = step.lines.find((line) => line.startsWith('##vso[task.uploadsummary]'))!;
    const summary = readFileSync(upload.slice('##vso[task.uploadsummary]'.length), 'utf8');
    assert.match(
      summary,
      /## Unit tests\n\n\| Total \| Passed \| Failed \| Skipped \|\n.*\n\| 3 \| 1 \| 1 \| 1 \|/,
    );
    assert.match(summary, /- `(test|calculator)\.divides` — one over one is two/);
  });

  it('fails with the real wording when failTaskOnFailedTests is true and a test failed', async () => {
    step = createTestContext({ definition, inputs: { failTaskOnFailedTests: 'true' } });
    writeNodeJUnit(step.workingDirectory, 'TEST-a.xml');
    assert.deepEqual(await runPublishTestResults(step.context), {
      status: 'Failed',
      message:
        'There are one or more test failures detected in result files. Detailed summary of published test results can be viewed in the Tests tab.',
    });
  });

  it('warns and succeeds when nothing matches, unless failTaskOnMissingResultsFile', async () => {
    step = createTestContext({ definition });
    assert.deepEqual(await runPublishTestResults(step.context), { status: 'Succeeded' });
    assert.deepEqual(step.lines, [
      `##vso[task.logissue type=warning;]No test result files matching '[ '**/TEST-*.xml' ]' were found. (searched ${step.workingDirectory})`,
    ]);
    const strict = createTestContext({
      definition,
      inputs: { failTaskOnMissingResultsFile: 'true' },
      sameJobAs: step,
    });
    const result = await runPublishTestResults(strict.context);
    assert.equal(result.status, 'Failed');
    assert.match(
      result.message ?? '',
      /^No test result files matching .* were found\. \(searched .*\): check testResultsFiles and searchFolder/,
    );
  });

  it('takes several patterns, relative searchFolder, ! excludes, and merges into one run', async () => {
    step = createTestContext({
      definition,
      inputs: {
        testResultsFiles: 'results/**/*.xml\n!**/ignored/**',
        searchFolder: 'build',
        mergeTestResults: 'true',
      },
    });
    const results = join(step.workingDirectory, 'build', 'results');
    const first = writeNodeJUnit(join(results, 'a'), 'one.xml');
    const second = writeNodeJUnit(join(results, 'b'), 'two.xml');
    writeNodeJUnit(join(results, 'ignored'), 'three.xml');
    await runPublishTestResults(step.context);
    assert.match(step.lines[0]!, new RegExp(`resultFiles=${first},${second};`));
    assert.ok(step.lines.includes("Publishing test results to test run 'JUnit_TestResults_42'"));
    assert.ok(step.lines.includes('Total tests: 6 - Passed: 2, Failed: 2, Skipped: 2 (one.xml, two.xml)'));
  });

  it('warns about a file that is not the format, and fails on it only with failTaskOnFailureToPublishResults', async () => {
    step = createTestContext({ definition, inputs: { testResultsFiles: 'broken.xml' } });
    writeFileSync(join(step.workingDirectory, 'broken.xml'), '<testsuites><testcase>');
    assert.equal((await runPublishTestResults(step.context)).status, 'Succeeded');
    const warning = `Invalid results file. Make sure the result format of the file '${join(step.workingDirectory, 'broken.xml')}' matches 'JUnit' test results format.`;
    assert.ok(step.lines.includes(`##vso[task.logissue type=warning;]${warning}`));
    const strict = createTestContext({
      definition,
      inputs: { testResultsFiles: 'broken.xml', failTaskOnFailureToPublishResults: 'true' },
      sameJobAs: step,
    });
    assert.deepEqual(await runPublishTestResults(strict.context), {
      status: 'Failed',
      message: `${warning} Fix the file or testResultsFiles.`,
    });
  });

  it('refuses NUnit, XUnit and CTest in one line', async () => {
    step = createTestContext({
      definition,
      inputs: { testResultsFormat: 'NUnit', testResultsFiles: '*.xml' },
    });
    writeFileSync(join(step.workingDirectory, 'r.xml'), '<test-run/>');
    const result = await runPublishTestResults(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(
      result.message ?? '',
      /^testResultsFormat NUnit is not read by the local runner: have the test runner write JUnit XML/,
    );
  });
});
