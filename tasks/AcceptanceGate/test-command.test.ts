import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TaskError } from '../shared/task-error';
import { failureLine } from './junit';
import { runInShell } from './shell';
import { programName, runTestCommand, type TestCommandDeps } from './test-command';

const mochaBin = resolve(__dirname, '..', '..', 'node_modules', 'mocha', 'bin', 'mocha.js');

describe('test command', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gate-suite-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const deps = (): TestCommandDeps => ({
    runShell: (command, env, timeoutMs) =>
      runInShell(command, env, dir, {
        timeoutMs,
        graceMs: 100,
        progressEveryMs: 60_000,
        onProgress: () => {},
      }),
    // The shell uses task-lib's findMatch; here a plain listing of TEST-*.xml is enough.
    findResults: (glob) =>
      readdirSync(dir)
        .filter((name) => new RegExp(`^${glob.replace('.', '\\.').replace('*', '.*')}$`).test(name))
        .map((name) => ({ path: join(dir, name), modifiedMs: statSync(join(dir, name)).mtimeMs })),
    readFile: (path) => readFileSync(path),
    now: () => Date.now(),
  });
  const mocha = `"${process.execPath}" "${mochaBin}" --no-config --reporter xunit --reporter-option output=TEST-acceptance.xml spec.js`;

  it('runs a real mocha suite with STAGING_BASE_URL and reads its JUnit output', async () => {
    writeFileSync(
      join(dir, 'spec.js'),
      `const assert = require('node:assert');
       describe('staging', () => {
         it('knows where staging is', () => assert.strictEqual(process.env.STAGING_BASE_URL, 'http://staging.test'));
         it('fails on purpose', () => assert.fail('expected failure'));
       });`,
    );
    const cases = await runTestCommand(
      {
        command: mocha,
        resultsGlob: 'TEST-*.xml',
        baseUrl: 'http://staging.test',
        retryFailed: 0,
        timeoutMinutes: 1,
      },
      deps(),
    );
    assert.deepEqual(
      cases.map((c) => [c.name, c.outcome]),
      [
        ['knows where staging is', 'passed'],
        ['fails on purpose', 'failed'],
      ],
    );
  });

  it('reruns the suite when a test fails, and a test that then passes is flaky', async () => {
    writeFileSync(
      join(dir, 'spec.js'),
      `const fs = require('node:fs');
       describe('staging', () => {
         it('flaps once', () => {
           if (!fs.existsSync('ran-once')) { fs.writeFileSync('ran-once', ''); throw new Error('first run fails'); }
         });
       });`,
    );
    const cases = await runTestCommand(
      {
        command: mocha,
        resultsGlob: 'TEST-*.xml',
        baseUrl: 'http://staging.test',
        retryFailed: 1,
        timeoutMinutes: 1,
      },
      deps(),
    );
    assert.deepEqual(
      cases.map((c) => [c.name, c.outcome, c.attempts, failureLine(c, (text) => text)]),
      [['flaps once', 'flaky', 2, 'first run fails']],
    );
  });

  it('is a clear error when the results glob matches nothing', async () => {
    await assert.rejects(
      runTestCommand(
        {
          command: 'exit 3',
          resultsGlob: 'TEST-*.xml',
          baseUrl: 'http://s',
          retryFailed: 0,
          timeoutMinutes: 1,
        },
        deps(),
      ),
      (error: unknown) =>
        error instanceof TaskError && error.key === 'TestResultsNotFound' && error.args[1] === 3,
    );
  });

  it('ignores result files left over from before the run', async () => {
    writeFileSync(join(dir, 'TEST-old.xml'), '<testsuite name="old"><testcase name="x"/></testsuite>');
    const stale = deps();
    await assert.rejects(
      runTestCommand(
        {
          command: 'true',
          resultsGlob: 'TEST-*.xml',
          baseUrl: 'http://s',
          retryFailed: 0,
          timeoutMinutes: 1,
        },
        { ...stale, now: () => Date.now() + 60_000 },
      ),
      (error: unknown) => error instanceof TaskError && error.key === 'TestResultsStale',
    );
  });

  it('counts a non-zero exit with all-green results as a failure', async () => {
    const cases = await runTestCommand(
      {
        command: `echo '<testsuite name="s"><testcase name="ok"/></testsuite>' > TEST-x.xml; exit 2`,
        resultsGlob: 'TEST-*.xml',
        baseUrl: 'http://s',
        retryFailed: 0,
        timeoutMinutes: 1,
      },
      deps(),
    );
    assert.deepEqual(
      cases.map((c) => [c.name, c.outcome, c.message ?? '']),
      [
        ['ok', 'passed', ''],
        [
          `echo '<testsuite name="s"><testcase name="ok"/></testsuite>' > TEST-x.xml; exit 2`,
          'failed',
          'exited with code 2',
        ],
      ],
    );
  });

  it('says which command the shell did not find, instead of reading results', async () => {
    await assert.rejects(
      runTestCommand(
        {
          command: 'CI=1 no-such-suite-runner --reporter xunit',
          resultsGlob: 'TEST-*.xml',
          baseUrl: 'http://s',
          retryFailed: 2,
          timeoutMinutes: 1,
        },
        deps(),
      ),
      (error: unknown) =>
        error instanceof TaskError &&
        error.key === 'TestCommandNotFound' &&
        error.args[0] === 127 &&
        error.args[1] === 'no-such-suite-runner',
    );
  });

  it('fails on the time limit without reading results or retrying', async () => {
    let runs = 0;
    await assert.rejects(
      runTestCommand(
        {
          command: 'sleep 600',
          resultsGlob: 'TEST-*.xml',
          baseUrl: 'http://s',
          retryFailed: 3,
          timeoutMinutes: 7,
        },
        {
          ...deps(),
          runShell: async (_command, _env, timeoutMs) => {
            runs++;
            assert.equal(timeoutMs, 7 * 60_000);
            return { timedOut: true };
          },
        },
      ),
      (error: unknown) =>
        error instanceof TaskError && error.key === 'TestCommandTimedOut' && error.args[1] === '7 minutes',
    );
    assert.equal(runs, 1);
  });

  it('names the program a command line starts', () => {
    assert.equal(programName('npx mocha test'), 'npx');
    assert.equal(programName('  FOO=1 BAR="a b" ./run-suite.sh --fast'), './run-suite.sh');
    assert.equal(
      programName('"C:\\Program Files\\node\\node.exe" suite.js'),
      'C:\\Program Files\\node\\node.exe',
    );
  });
});
