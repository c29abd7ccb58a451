import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { failureLine, JUnitReadError, mergeRuns, parseJUnit, writeJUnit, type TestCase } from './junit';

const mochaBin = resolve(__dirname, '..', '..', 'node_modules', 'mocha', 'bin', 'mocha.js');

/** Runs a real mocha suite with its built-in xunit (JUnit) reporter and returns the XML. */
function mochaJUnit(spec: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gate-mocha-'));
  try {
    writeFileSync(join(dir, 'spec.js'), spec);
    const output = join(dir, 'TEST-results.xml');
    spawnSync(
      process.execPath,
      [mochaBin, '--no-config', '--reporter', 'xunit', '--reporter-option', `output=${output}`, 'spec.js'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    return readFileSync(output, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const passed = (name: string, suite = 's'): TestCase => ({
  suite,
  classname: suite,
  name,
  outcome: 'passed',
  timeSeconds: 0.1,
  attempts: 1,
});
const failed = (name: string, message = 'boom', suite = 's'): TestCase => ({
  ...passed(name, suite),
  outcome: 'failed',
  message,
});

describe('JUnit', () => {
  it("reads mocha's xunit reporter output: passes, failures with their message, and pending tests", () => {
    const xml = mochaJUnit(`
      const assert = require('node:assert');
      describe('orders api', () => {
        it('lists orders', () => {});
        it('creates an order', () => assert.strictEqual(1 + 1, 3, 'sum <wrong> & "quoted"'));
        it.skip('refunds an order', () => {});
      });
    `);
    const cases = parseJUnit(xml);
    assert.deepEqual(
      cases.map((c) => [c.classname, c.name, c.outcome]),
      [
        ['orders api', 'lists orders', 'passed'],
        ['orders api', 'creates an order', 'failed'],
        ['orders api', 'refunds an order', 'skipped'],
      ],
    );
    assert.match(
      failureLine(cases[1] as TestCase, (text) => text),
      /sum <wrong> & "quoted"/,
    );
  });

  it('reads nested suites and <error> elements', () => {
    const cases = parseJUnit(`<?xml version="1.0"?>
      <testsuites><testsuite name="outer"><testsuite name="inner">
        <testcase classname="c" name="a" time="0.5"/>
        <testcase classname="c" name="b"><error message="crashed">stack</error></testcase>
      </testsuite></testsuite></testsuites>`);
    assert.deepEqual(
      cases.map((c) => [c.suite, c.name, c.outcome, c.message ?? '']),
      [
        ['inner', 'a', 'passed', ''],
        ['inner', 'b', 'failed', 'crashed'],
      ],
    );
  });

  it('rejects a file that is not XML, saying where', () => {
    assert.throws(() => parseJUnit('<testsuite><testcase></testsuite>'), JUnitReadError);
    assert.throws(() => parseJUnit('<html/>'), /no <testsuites> or <testsuite>/);
  });

  const malformed: [string, string, RegExp][] = [
    [
      'a file cut short',
      '<testsuite name="s">\n  <testcase name="a">',
      /^it ends before <testsuite>, <testcase> are closed, as if it was cut short/,
    ],
    [
      'a tag closed in the wrong place',
      '<?xml version="1.0"?>\n<testsuite>\n  <testcase>\n</testsuite>',
      /^<testcase> \(opened on line 3\) is not closed before <\/testsuite> on line 4$/,
    ],
    ['an empty file', '  \n', /^the file is empty$/],
    [
      'text that is not XML',
      'All 12 tests passed',
      /^it does not start with an XML element \(it starts with "All 12/,
    ],
    [
      'an attribute without quotes',
      '<testsuite>\n<testcase name=a/></testsuite>',
      /the attribute name on line 2 has no quoted value/,
    ],
    ['two roots', '<testsuite></testsuite>\n<testsuite></testsuite>', /a second top-level element on line 2/],
  ];
  for (const [what, xml, reason] of malformed) {
    it(`says in words what is wrong with ${what}`, () => {
      assert.throws(
        () => parseJUnit(xml),
        (error: unknown) => error instanceof JUnitReadError && reason.test(error.message),
      );
    });
  }

  it('merges retried runs: failed then passed is flaky, failed every time is failed', () => {
    const merged = mergeRuns([
      [passed('steady'), failed('flaky one', 'first failure'), failed('broken')],
      [passed('steady'), passed('flaky one'), failed('broken', 'second failure')],
    ]);
    assert.deepEqual(
      merged.map((c) => [c.name, c.outcome, c.attempts, c.message ?? '']),
      [
        ['steady', 'passed', 1, ''],
        ['flaky one', 'flaky', 2, 'first failure'],
        ['broken', 'failed', 2, 'second failure'],
      ],
    );
  });

  it('writes one document that reads back the same, with every text redacted and escaped', () => {
    const cases: TestCase[] = [
      passed('health', 'Acceptance checks'),
      {
        ...failed('login <as> "admin"', 'sent token tok-SECRET-1 & got 401', 'Acceptance checks'),
        details: 'tok-SECRET-1\nmore',
      },
      { ...passed('orders', 'orders api'), outcome: 'flaky', attempts: 2, message: 'first try 503' },
      { ...passed('refunds', 'orders api'), outcome: 'skipped' },
    ];
    const xml = writeJUnit(
      cases,
      (text) => text.split('tok-SECRET-1').join('***'),
      new Date('2025-05-01T10:00:00Z'),
    );
    assert.doesNotMatch(xml, /tok-SECRET-1/);
    const read = parseJUnit(xml);
    assert.deepEqual(
      read.map((c) => [c.suite, c.name, c.outcome]),
      [
        ['Acceptance checks', 'health', 'passed'],
        ['Acceptance checks', 'login <as> "admin"', 'failed'],
        ['orders api', 'orders', 'passed'],
        ['orders api', 'refunds', 'skipped'],
      ],
    );
    assert.equal(read[1]?.message, 'sent token *** & got 401');
    assert.match(xml, /Flaky: passed on attempt 2/);
    assert.match(xml, /<testsuites name="Acceptance gate" tests="4" failures="1" skipped="1"/);
  });
});
