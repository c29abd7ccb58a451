import { strict as assert } from 'node:assert';
import { counted, metricValue, metricWords, percent } from './wording';

describe('wording', () => {
  it('counts with the noun in the right number', () => {
    assert.equal(counted(1, 'referrer'), '1 referrer');
    assert.equal(counted(0, 'referrer'), '0 referrers');
    assert.equal(counted(3, 'poll'), '3 polls');
    assert.equal(counted(2, 'entry', 'entries'), '2 entries');
  });

  it('writes percentages one way', () => {
    assert.equal(percent(33.333333), '33.33%');
    assert.equal(percent(100), '100%');
    assert.equal(percent(97.5), '97.5%');
  });

  it('puts metric names in words, with their units', () => {
    assert.equal(metricWords('failedRatePercent'), 'failed rate');
    assert.equal(metricWords('p95DurationMs'), 'p95 duration');
    assert.equal(metricWords('requests'), 'requests');
    assert.equal(metricWords('error_count'), 'error count');
    assert.equal(metricValue('failedRatePercent', 7.5), '7.5%');
    assert.equal(metricValue('p95DurationMs', 812), '812 ms');
    assert.equal(metricValue('requests', 120), '120');
  });
});
