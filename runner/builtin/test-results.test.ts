import assert from 'node:assert/strict';
import { parseTestResults, ResultFileFormatError, totalsOf } from './test-results';

describe('test result files', () => {
  it('reads JUnit with nested suites, errors, empty failures and skips', () => {
    const results = parseTestResults(
      'JUnit',
      `<?xml version="1.0"?>
      <testsuites>
        <testsuite name="outer">
          <testcase classname="Outer" name="passes" time="0.25"/>
          <testcase classname="Outer" name="errors"><error message="boom">stack</error></testcase>
          <testsuite name="inner">
            <testcase name="fails"><failure/></testcase>
            <testcase name="skips"><skipped/></testcase>
            <testcase name="text only"><failure>expected 1</failure></testcase>
          </testsuite>
        </testsuite>
      </testsuites>`,
    );
    assert.deepEqual(results, [
      { name: 'passes', container: 'Outer', outcome: 'passed', durationMs: 250, message: undefined },
      { name: 'errors', container: 'Outer', outcome: 'failed', durationMs: undefined, message: 'boom' },
      { name: 'fails', container: 'inner', outcome: 'failed', durationMs: undefined, message: '' },
      { name: 'skips', container: 'inner', outcome: 'skipped', durationMs: undefined, message: undefined },
      {
        name: 'text only',
        container: 'inner',
        outcome: 'failed',
        durationMs: undefined,
        message: 'expected 1',
      },
    ]);
    assert.deepEqual(totalsOf(results), { total: 5, passed: 1, failed: 3, skipped: 1 });
  });

  it('reads a single <testsuite> root and an empty <testsuites/>', () => {
    assert.equal(parseTestResults('JUnit', '<testsuite name="s"><testcase name="a"/></testsuite>').length, 1);
    assert.deepEqual(parseTestResults('JUnit', '<testsuites/>'), []);
  });

  it('reads VSTest .trx results with their class names and durations', () => {
    const results = parseTestResults(
      'VSTest',
      `<?xml version="1.0" encoding="utf-8"?>
      <TestRun id="1" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
        <Results>
          <UnitTestResult testId="t1" testName="Adds" outcome="Passed" duration="00:00:00.0120000"/>
          <UnitTestResult testId="t2" testName="Divides" outcome="Failed" duration="00:00:01.5">
            <Output><ErrorInfo><Message>Assert.Equal() Failure</Message></ErrorInfo></Output>
          </UnitTestResult>
          <UnitTestResult testId="t3" testName="Later" outcome="NotExecuted"/>
        </Results>
        <TestDefinitions>
          <UnitTest id="t1"><TestMethod className="Calc.Tests" name="Adds"/></UnitTest>
          <UnitTest id="t2"><TestMethod className="Calc.Tests" name="Divides"/></UnitTest>
        </TestDefinitions>
      </TestRun>`,
    );
    assert.deepEqual(results, [
      { name: 'Adds', container: 'Calc.Tests', outcome: 'passed', durationMs: 12, message: undefined },
      {
        name: 'Divides',
        container: 'Calc.Tests',
        outcome: 'failed',
        durationMs: 1500,
        message: 'Assert.Equal() Failure',
      },
      { name: 'Later', container: undefined, outcome: 'skipped', durationMs: undefined, message: undefined },
    ]);
  });

  it('refuses text that is not the format', () => {
    assert.throws(() => parseTestResults('JUnit', '<testsuites><oops></testsuites>'), ResultFileFormatError);
    assert.throws(() => parseTestResults('JUnit', '<TestRun/>'), ResultFileFormatError);
    assert.throws(() => parseTestResults('VSTest', '<testsuites/>'), ResultFileFormatError);
  });
});
