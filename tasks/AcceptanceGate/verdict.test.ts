import * as assert from 'node:assert/strict';
import type { CheckResult } from './check-runner';
import { healthScore, judgeMetric, type HealthReport, type MetricReading } from './health';
import { parseThresholds } from './health-thresholds';
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
const catalog = ['failedRatePercent', 'p95DurationMs', 'restarts'];
/** A health report judged from thresholds text and each metric's reading. */
function report(thresholds: string, readings: Record<string, MetricReading>): HealthReport {
  const metrics = parseThresholds(thresholds, { catalog, customQuery: false }).map((threshold) =>
    judgeMetric(
      threshold,
      threshold.metric === 'restarts' ? 'Container Insights' : 'Application Insights',
      readings[threshold.metric] ?? {},
    ),
  );
  return {
    target: 'workspace w',
    metrics,
    score: healthScore(metrics),
    waitMinutes: 5,
    scope: { cluster: 'aks-staging', namespace: 'shop', roleName: 'orders' },
  };
}
const health = (value: number | undefined, limit: number): HealthReport =>
  report(`failedRatePercent <= ${limit}`, { failedRatePercent: value === undefined ? {} : { value } });

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
      keys: ['HealthMetricFailed'],
    },
    {
      name: 'health without data is not a failure (the verdict says Inconclusive)',
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

  const outcomes: {
    name: string;
    input: Partial<VerdictInput>;
    outcome: string;
    score: number;
    issues: string[];
  }[] = [
    {
      name: 'every metric passes: Passed',
      input: {
        health: report('failedRatePercent <= 1\nrestarts <= 0', {
          failedRatePercent: { value: 0.2 },
          restarts: { value: 0 },
        }),
      },
      outcome: 'Passed',
      score: 100,
      issues: [],
    },
    {
      name: 'one on its warning line: Warning, half its weight',
      input: {
        health: report('failedRatePercent: pass <= 1, warn <= 3, weight 3\nrestarts <= 0', {
          failedRatePercent: { value: 2 },
          restarts: { value: 0 },
        }),
      },
      outcome: 'Warning',
      score: 62.5,
      issues: ['HealthMetricWarning'],
    },
    {
      name: 'no data for one, a warning for another: Inconclusive, scored over those with data',
      input: {
        health: report('failedRatePercent: pass <= 1, warn <= 3\nrestarts <= 0\np95DurationMs <= 500', {
          failedRatePercent: { value: 2 },
          p95DurationMs: { value: 100 },
        }),
      },
      outcome: 'Inconclusive',
      score: 75,
      issues: ['HealthMetricWarning', 'HealthMetricNoData'],
    },
    {
      name: 'a failed metric outweighs no data: Failed',
      input: { health: report('failedRatePercent <= 1\nrestarts <= 0', { restarts: { value: 2 } }) },
      outcome: 'Failed',
      score: 0,
      issues: ['HealthMetricNoData'],
    },
    {
      name: 'failing checks fail a healthy release',
      input: {
        checks: [check('a', 'failed')],
        health: report('failedRatePercent <= 1', { failedRatePercent: { value: 0 } }),
      },
      outcome: 'Failed',
      score: 100,
      issues: [],
    },
    {
      name: 'no metric with data scores 0',
      input: { health: report('failedRatePercent <= 1\nrestarts <= 0', {}) },
      outcome: 'Inconclusive',
      score: 0,
      issues: ['HealthMetricNoData', 'HealthMetricNoData'],
    },
    {
      name: 'a relative limit without a baseline: Inconclusive, saying so',
      input: { health: report('p95DurationMs <= +10%', { p95DurationMs: { value: 300 } }) },
      outcome: 'Inconclusive',
      score: 0,
      issues: ['HealthMetricNoBaseline'],
    },
    { name: 'no health at all: score 0', input: {}, outcome: 'Passed', score: 0, issues: [] },
  ];
  for (const row of outcomes) {
    it(`verdict: ${row.name}`, () => {
      const verdict = decideVerdict({ ...base, ...row.input });
      assert.equal(verdict.outcome, row.outcome);
      assert.equal(verdict.score, row.score);
      assert.deepEqual(
        verdict.issues.map((issue) => issue.key),
        row.issues,
      );
    });
  }

  it('says what to check when a metric has no data: the cluster, the role name', () => {
    const verdict = decideVerdict({ ...base, health: report('failedRatePercent <= 1\nrestarts <= 0', {}) });
    assert.deepEqual(verdict.issues[0]?.args.slice(0, 3), ['failed rate', 'failedRatePercent', '5 minutes']);
    assert.match(String(verdict.issues[0]?.args[3]), /AppRoleName 'orders' \(appRoleName\)/);
    assert.match(String(verdict.issues[1]?.args[3]), /Container Insights is enabled on cluster aks-staging/);
  });

  it('names both lines a failed metric missed, a relative one with its value', () => {
    const verdict = decideVerdict({
      ...base,
      health: report('p95DurationMs: pass <= +10%, warn <= +25%', {
        p95DurationMs: { value: 300, baseline: 200 },
      }),
    });
    assert.deepEqual(verdict.reasons[0]?.args, [
      'p95 duration',
      'p95DurationMs',
      '300 ms',
      'pass <= +10% (220 ms), warn <= +25% (250 ms)',
    ]);
  });

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
    assert.match(
      markdown,
      /\| failed rate `failedRatePercent` \| Application Insights \| 4\.2% \| <= 1% \| – \| – \| 1 \| ❌ failed \|/,
    );
    assert.match(markdown, /Score \*\*0\*\* of 100 over 1 of 1 metrics with data/);
    assert.doesNotMatch(markdown, /<[a-z/]/i, 'no raw HTML: Azure DevOps shows it as text');
    assert.doesNotMatch(markdown, /tok-SECRET/);
  });

  it('shows a relative limit with its baseline, and says what to check when no data arrived', () => {
    const health = report('p95DurationMs: pass <= +10%, warn <= +25%, weight 2\nrestarts <= 0', {
      p95DurationMs: { value: 230, baseline: 200 },
    });
    const markdown = renderSummary(
      {
        verdict: decideVerdict({ ...base, health }),
        minPassRate: 100,
        reasons: [],
        checks: [],
        tests: [],
        health,
      },
      (t) => t,
    );
    assert.match(markdown, /^## Acceptance gate: ❔ inconclusive/);
    assert.match(
      markdown,
      /\| p95 duration `p95DurationMs` \| Application Insights \| 230 ms \| <= \+10% \(220 ms\) \| <= \+25% \(250 ms\) \| 200 ms \| 2 \| ⚠️ warning \|/,
    );
    assert.match(
      markdown,
      /\| restarts `restarts` \| Container Insights \| no data \| <= 0 \| – \| – \| 1 \| ❔ no data \|/,
    );
    assert.match(
      markdown,
      /No data arrived within 5 min for `restarts`\. Check that Container Insights is enabled on cluster aks-staging/,
    );
    assert.match(markdown, /Score \*\*50\*\* of 100 over 1 of 2 metrics with data/);
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
