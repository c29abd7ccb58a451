import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCobertura, parseLcov } from './coverage';
import { taskData } from './definitions';
import { runPublishCodeCoverage, runPublishCodeCoverageV1 } from './publish-code-coverage';
import { createTestContext, type TestContext } from './testing/context';

const version2 = taskData('PublishCodeCoverageResults', 2);
const version1 = taskData('PublishCodeCoverageResults', 1);

/** Cobertura as istanbul's cobertura reporter writes it (no Cobertura writer is installed here). */
const cobertura = `<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage lines-valid="20" lines-covered="15" line-rate="0.75" branches-valid="8" branches-covered="2" branch-rate="0.25" timestamp="1765000000000" complexity="0" version="0.1">
  <sources><source>/src/app</source></sources>
  <packages>
    <package name="app" line-rate="0.75" branch-rate="0.25">
      <classes>
        <class name="index.js" filename="index.js" line-rate="0.75" branch-rate="0.25">
          <methods/>
          <lines><line number="1" hits="1"/></lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
`;

/** Real lcov from Node's own coverage (node --test --experimental-test-coverage --test-reporter=lcov). */
function writeNodeLcov(folder: string): string {
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'lib.js'),
    "exports.pick = (flag) => { if (flag) { return 'yes'; } return 'no'; };\n",
  );
  writeFileSync(
    join(folder, 'lib.test.js'),
    "const test = require('node:test');\nconst lib = require('./lib');\ntest('picks', () => lib.pick(true));\n",
  );
  const output = join(folder, 'lcov.info');
  spawnSync(
    process.execPath,
    [
      '--test',
      '--experimental-test-coverage',
      '--test-reporter=lcov',
      `--test-reporter-destination=${output}`,
      'lib.test.js',
    ],
    { cwd: folder },
  );
  return output;
}

describe('PublishCodeCoverageResults@2 and @1', () => {
  let step: TestContext | undefined;
  afterEach(() => step?.dispose());

  it('reads Cobertura counters and lcov sums', () => {
    assert.deepEqual(parseCobertura(cobertura), {
      format: 'Cobertura',
      lines: { covered: 15, valid: 20 },
      branches: { covered: 2, valid: 8 },
    });
    assert.deepEqual(
      parseLcov('SF:a\nLF:4\nLH:3\nend_of_record\nSF:b\nLF:6\nLH:6\nBRF:2\nBRH:1\nend_of_record\n'),
      {
        format: 'lcov',
        lines: { covered: 9, valid: 10 },
        branches: { covered: 1, valid: 2 },
      },
    );
  });

  it('@2 prints what each pattern found, line and branch coverage, and uploads a summary', async () => {
    step = createTestContext({
      definition: version2,
      inputs: {
        summaryFileLocation: '**/coverage/cobertura-coverage.xml\n**/lcov.info',
        pathToSources: 'src',
      },
    });
    mkdirSync(join(step.workingDirectory, 'coverage'));
    const xml = join(step.workingDirectory, 'coverage', 'cobertura-coverage.xml');
    writeFileSync(xml, cobertura);
    const lcov = writeNodeLcov(join(step.workingDirectory, 'node'));
    const lcovText = readFileSync(lcov, 'utf8');
    const lcovSummary = parseLcov(lcovText);
    assert.ok(lcovSummary.lines.valid > 0, 'node wrote real coverage');

    assert.deepEqual(await runPublishCodeCoverage(step.context), { status: 'Succeeded' });
    const lines = 15 + lcovSummary.lines.covered;
    const valid = 20 + lcovSummary.lines.valid;
    assert.deepEqual(step.lines.slice(0, 5), [
      'Found 1 result(s) matching pattern: **/coverage/cobertura-coverage.xml',
      xml,
      'Found 1 result(s) matching pattern: **/lcov.info',
      lcov,
      `Line coverage: ${((lines / valid) * 100).toFixed(2)}% (${lines}/${valid})`,
    ]);
    assert.match(step.lines[5]!, /^Branch coverage: \d+\.\d\d% \(\d+\/\d+\)$/);
    const summary = readFileSync(step.lines[6]!.replace('##vso[task.uploadsummary]', ''), 'utf8');
    assert.match(summary, /\| \*\*Total\*\* \| .*% \(\d+\/\d+\) \|/);
    assert.match(summary, /Sources: `src`/);
  });

  it('@2 warns when nothing matches, and fails only with failIfCoverageEmpty', async () => {
    step = createTestContext({ definition: version2, inputs: { summaryFileLocation: '**/none.xml' } });
    assert.deepEqual(await runPublishCodeCoverage(step.context), { status: 'Succeeded' });
    assert.deepEqual(step.lines, [
      'Found 0 result(s) matching pattern: **/none.xml',
      '##vso[task.logissue type=warning;]No code coverage results were found to publish.',
    ]);
    const strict = createTestContext({
      definition: version2,
      inputs: { summaryFileLocation: '**/none.xml', failIfCoverageEmpty: 'true' },
      sameJobAs: step,
    });
    assert.deepEqual(await runPublishCodeCoverage(strict.context), {
      status: 'Failed',
      message:
        'No code coverage results were found to publish. Check summaryFileLocation, or that the tests wrote coverage.',
    });
  });

  it('@2 fails on a summary that counts no lines when failIfCoverageEmpty', async () => {
    step = createTestContext({
      definition: version2,
      inputs: { summaryFileLocation: 'empty.xml', failIfCoverageEmpty: 'true' },
    });
    writeFileSync(join(step.workingDirectory, 'empty.xml'), '<coverage lines-valid="0" lines-covered="0"/>');
    const result = await runPublishCodeCoverage(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(
      result.message ?? '',
      /^No code coverage results were found to publish\. The summary counts no lines/,
    );
  });

  it('@2 refuses a file that is neither Cobertura nor lcov, in one line', async () => {
    step = createTestContext({ definition: version2, inputs: { summaryFileLocation: 'report.html' } });
    writeFileSync(join(step.workingDirectory, 'report.html'), 'hello');
    const result = await runPublishCodeCoverage(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(
      result.message ?? '',
      /report\.html is not a Cobertura or lcov summary .*: point summaryFileLocation at one\.$/,
    );
  });

  it('@1 warns that it is deprecated, runs the same, and emits codecoverage.publish', async () => {
    step = createTestContext({
      definition: version1,
      inputs: { codeCoverageTool: 'Cobertura', summaryFileLocation: '**/cobertura-coverage.xml' },
    });
    const xml = join(step.workingDirectory, 'cobertura-coverage.xml');
    writeFileSync(xml, cobertura);
    assert.deepEqual(await runPublishCodeCoverageV1(step.context), { status: 'Succeeded' });
    assert.deepEqual(step.lines.slice(0, 4), [
      "##vso[task.logissue type=warning;]Task 'Publish code coverage' version 1 (PublishCodeCoverageResults@1) is deprecated.",
      '##vso[task.logissue type=warning;]The PublishCodeCoverageResults@1 is deprecated. Users are recommended to switch to task version 2. For more details, see https://devblogs.microsoft.com/devops/new-pccr-task',
      'Line coverage: 75.00% (15/20)',
      'Branch coverage: 25.00% (2/8)',
    ]);
    assert.equal(
      step.lines.at(-1),
      `##vso[codecoverage.publish codecoveragetool=Cobertura;summaryfile=${xml};]`,
    );
  });

  it('@1 refuses JaCoCo in one line', async () => {
    step = createTestContext({ definition: version1, inputs: { summaryFileLocation: 'x.xml' } });
    const result = await runPublishCodeCoverageV1(step.context);
    assert.equal(result.status, 'Failed');
    assert.match(result.message ?? '', /^codeCoverageTool JaCoCo is not read by the local runner/);
  });
});
