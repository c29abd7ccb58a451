import * as assert from 'node:assert/strict';
import type { CheckResult } from './check-runner';
import type { HealthReport } from './health';
import type { TestCase } from './junit';
import { latencyBar, renderSummary } from './summary';
import { decideVerdict, type VerdictInput } from './verdict';

function check(
  name: string,
  outcome: CheckResult['outcome'],
  fields: Partial<CheckResult> = {},
): CheckResult {
  return {
    name,
    url: `http://staging.test/${name}`,
    outcome,
    attempts: outcome === 'flaky' ? 2 : 1,
    latencyMs: 12,
    p95Ms: 12,
    latenciesMs: [12],
    failures: outcome === 'passed' ? [] : ['status 503, expected 200'],
    unreachable: false,
    source: 'checks.yaml:1',
    ...fields,
  };
}
const test = (name: string, outcome: TestCase['outcome']): TestCase => ({
  suite: 'suite',
  classname: 'suite',
  name,
  outcome,
  timeSeconds: 0,
  attempts: 1,
});
const base: VerdictInput = { baseUrl: 'http://staging.test', minPassRate: 100, checks: [], tests: [] };
const health = (value: number | undefined, limit: number): HealthReport => ({
  target: 'workspace w',
  figures: [
    {
      name: 'failedRatePercent',
      ...(value !== undefined ? { value } : {}),
      threshold: { column: 'failedRatePercent', operator: '<=', limit },
      crossed: value !== undefined && value > limit,
    },
  ],
});

describe('verdict', () => {
  const table: {
    name: string;
    input: Partial<VerdictInput>;
    passed: boolean;
    passRate: number;
    keys: string[];
  }[] = [
    { name: 'nothing counted, nothing failed: passes at 0%', input: {}, passed: true, passRate: 0, keys: [] },
    {
      name: 'every test skipped fails at 0%: nothing was verified',
      input: { minPassRate: 0, tests: [test('t1', 'skipped'), test('t2', 'skipped')] },
      passed: false,
      passRate: 0,
      keys: ['AllSkipped'],
    },
    {
      name: 'all passed, flaky counts as passed, skipped not counted',
      input: { checks: [check('a', 'passed'), check('b', 'flaky')], tests: [test('t', 'skipped')] },
      passed: true,
      passRate: 100,
      keys: [],
    },
    {
      name: 'one failure under 100%',
      input: { checks: [check('a', 'passed'), check('b', 'failed')], tests: [test('t', 'passed')] },
      passed: false,
      passRate: 66.66,
      keys: ['PassRateBelowMinimum'],
    },
    {
      name: 'one failure within a 60% minimum',
      input: {
        minPassRate: 60,
        checks: [check('a', 'passed'), check('b', 'failed')],
        tests: [test('t', 'passed')],
      },
      passed: true,
      passRate: 66.66,
      keys: [],
    },
    {
      name: 'readiness timeout',
      input: {
        readiness: {
          ready: false,
          polls: 4,
          waitedMs: 10_000,
          lastSeen: 'status 503',
          url: 'http://s/ready',
          timeoutMs: 10_000,
        },
      },
      passed: false,
      passRate: 0,
      keys: ['ReadinessTimedOut'],
    },
    {
      name: 'unreachable base URL',
      input: {
        checks: [check('a', 'failed', { unreachable: true, failures: ['request failed: ECONNREFUSED'] })],
      },
      passed: false,
      passRate: 0,
      keys: ['BaseUrlUnreachable', 'PassRateBelowMinimum'],
    },
    {
      name: 'health within thresholds',
      input: { health: health(0.5, 1) },
      passed: true,
      passRate: 0,
      keys: [],
    },
    {
      name: 'health crossed',
      input: { health: health(4.2, 1) },
      passed: false,
      passRate: 0,
      keys: ['HealthThresholdCrossed'],
    },
    {
      name: 'health without traffic',
      input: { health: health(undefined, 1) },
      passed: true,
      passRate: 0,
      keys: [],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const verdict = decideVerdict({ ...base, ...row.input });
      assert.equal(verdict.passed, row.passed);
      assert.equal(verdict.passRate, row.passRate);
      assert.equal(verdict.ran, row.passRate > 0 || (row.input.checks ?? []).length > 0);
      assert.deepEqual(
        verdict.reasons.map((r) => r.key),
        row.keys,
      );
    });
  }

  it('lists what failed in the pass-rate reason', () => {
    const verdict = decideVerdict({
      ...base,
      checks: [check('login', 'failed')],
      tests: [test('refund', 'failed')],
    });
    assert.match(String(verdict.reasons[0]?.args[4]), /login \(status 503, expected 200\); suite › refund/);
  });
});

describe('summary', () => {
  it('shows the verdict, the checks table with latency bars, health against thresholds, redacted, and no HTML', () => {
    const checks = [
      check('login', 'failed', { failures: ['echoed tok-SECRET'] }),
      check('health', 'passed', { latencyMs: 40 }),
      check('flappy', 'flaky'),
    ];
    const verdict = decideVerdict({ ...base, checks, health: health(4.2, 1) });
    const markdown = renderSummary(
      {
        verdict,
        minPassRate: 100,
        reasons: ['first reason'],
        checks,
        tests: [test('t', 'failed')],
        health: health(4.2, 1),
      },
      (text) => text.split('tok-SECRET').join('***'),
    );
    assert.match(markdown, /^## Acceptance gate: ❌ failed/);
    assert.match(
      markdown,
      /\| login \| ❌ failed \| ▏? *█* *[▏▎▍▌▋▊▉]? \| 12 ms \| – \| 1 \| echoed \*\*\* \|/,
    );
    assert.ok(
      markdown.indexOf('| login') < markdown.indexOf('| flappy') &&
        markdown.indexOf('| flappy') < markdown.indexOf('| health'),
    );
    assert.match(markdown, /\| failed rate \| `failedRatePercent` \| 4\.2% \| <= 1% \| ❌ crossed \|/);
    assert.doesNotMatch(markdown, /<[a-z/]/i, 'no raw HTML: Azure DevOps shows it as text');
    assert.doesNotMatch(markdown, /tok-SECRET/);
  });

  it('lists at most 50 checks, failures first', () => {
    const checks = Array.from({ length: 120 }, (_, i) => check(`c${i}`, i === 119 ? 'failed' : 'passed'));
    const markdown = renderSummary(
      { verdict: decideVerdict({ ...base, checks }), minPassRate: 100, reasons: [], checks, tests: [] },
      (t) => t,
    );
    assert.match(markdown, /\| c119 \| ❌ failed/);
    assert.match(markdown, /…and 70 more, all passed\./);
  });

  it('draws latency as a bar of block characters, as long as its share of the slowest', () => {
    assert.equal(latencyBar(100, 100), '████████████');
    assert.equal(latencyBar(50, 100), '██████');
    assert.equal(latencyBar(1, 100), '▏');
    assert.equal(latencyBar(0, 100), '▏');
    assert.equal(latencyBar(55, 100), '██████▋');
  });

  it('puts the base URL, environment and stage in the heading', () => {
    const markdown = renderSummary(
      {
        verdict: decideVerdict({ ...base, checks: [] }),
        minPassRate: 100,
        reasons: [],
        checks: [],
        tests: [],
        target: {
          baseUrl: 'https://orders-staging.contoso.com',
          place: { environment: 'staging', stage: 'Acceptance' },
        },
      },
      (t) => t,
    );
    assert.match(
      markdown,
      /^## Acceptance gate: .* · https:\/\/orders-staging\.contoso\.com · environment staging · stage Acceptance\n/,
    );
  });
});
