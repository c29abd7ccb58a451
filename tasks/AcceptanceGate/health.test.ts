import { strict as assert } from 'node:assert';
import { healthMetrics } from './health-catalog';
import { defaultThresholds, healthScore, judgeMetric, type MetricReading } from './health';
import { parseThresholds } from './health-thresholds';

const catalog = healthMetrics.map((metric) => metric.name);
const judge = (line: string, reading: MetricReading) => {
  const [threshold] = parseThresholds(line, { catalog, customQuery: true });
  return judgeMetric(threshold as NonNullable<typeof threshold>, 'Application Insights', reading);
};

describe('judging a health metric', () => {
  const table: { line: string; reading: MetricReading; outcome: string; passLimit?: number }[] = [
    { line: 'failedRatePercent <= 1', reading: { value: 1 }, outcome: 'Passed', passLimit: 1 },
    { line: 'failedRatePercent < 1', reading: { value: 1 }, outcome: 'Failed' },
    { line: 'requests >= 100', reading: { value: 100 }, outcome: 'Passed' },
    { line: 'requests > 100', reading: { value: 100 }, outcome: 'Failed' },
    { line: 'failedRatePercent: pass <= 1, warn <= 3', reading: { value: 3 }, outcome: 'Warning' },
    { line: 'failedRatePercent: pass <= 1, warn <= 3', reading: { value: 3.01 }, outcome: 'Failed' },
    { line: 'failedRatePercent: pass <= 1, warn <= 3', reading: {}, outcome: 'Inconclusive' },
    // A relative limit: +10% of 200 ms is 220 ms; -20% of 1000 requests is 800.
    {
      line: 'p95DurationMs <= +10%',
      reading: { value: 220, baseline: 200 },
      outcome: 'Passed',
      passLimit: 220,
    },
    {
      line: 'p95DurationMs <= +10%',
      reading: { value: 221, baseline: 200 },
      outcome: 'Failed',
      passLimit: 220,
    },
    { line: 'requests >= -20%', reading: { value: 800, baseline: 1000 }, outcome: 'Passed', passLimit: 800 },
    { line: 'p95DurationMs <= +10%', reading: { value: 221 }, outcome: 'Inconclusive' },
    // A relative warning line over an absolute pass line.
    {
      line: 'p95DurationMs: pass <= 200, warn <= +50%',
      reading: { value: 250, baseline: 180 },
      outcome: 'Warning',
    },
  ];
  for (const row of table) {
    it(`${row.line} with ${JSON.stringify(row.reading)}: ${row.outcome}`, () => {
      const result = judge(row.line, row.reading);
      assert.equal(result.outcome, row.outcome);
      if (row.passLimit !== undefined) assert.equal(result.passLimit, row.passLimit);
    });
  }

  it('says whether data or the baseline was missing', () => {
    assert.equal(judge('p95DurationMs <= +10%', {}).missing, 'data');
    assert.equal(judge('p95DurationMs <= +10%', { value: 5 }).missing, 'baseline');
  });

  it('scores by weight, a warning as half, leaving out metrics without data, to one decimal', () => {
    const results = [
      judge('failedRatePercent: pass <= 1, weight 2', { value: 0 }),
      judge('p95DurationMs: pass <= 100, warn <= 200', { value: 150 }),
      judge('requests: pass >= 10, weight 3', { value: 1 }),
      judge('exceptions <= 0', {}),
    ];
    assert.equal(healthScore(results), 41.7); // 100 × (2 + 0.5 + 0) / 6
    assert.equal(healthScore([results[3] as (typeof results)[number]]), 0);
    assert.equal(healthScore([]), 0);
  });

  it('defaults to the two Application Insights lines, and the Container Insights ones with the cluster', () => {
    assert.equal(defaultThresholds(false), 'failedRatePercent <= 1\np95DurationMs <= 1000');
    assert.deepEqual(
      parseThresholds(defaultThresholds(true), { catalog, customQuery: false }).map((t) => t.metric),
      ['failedRatePercent', 'p95DurationMs', 'restarts', 'oomKilled', 'podsNotReady', 'errorLogLines'],
    );
  });
});
