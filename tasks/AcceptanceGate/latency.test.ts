import * as assert from 'node:assert/strict';
import { median, percentile } from './latency';

describe('latency statistics', () => {
  const table: { samples: number[]; p95: number; median: number }[] = [
    { samples: [], p95: 0, median: 0 },
    { samples: [42], p95: 42, median: 42 },
    { samples: [10, 30, 20], p95: 30, median: 20 },
    { samples: Array.from({ length: 20 }, (_, i) => i + 1), p95: 19, median: 10.5 },
    { samples: Array.from({ length: 100 }, (_, i) => 100 - i), p95: 95, median: 50.5 },
  ];
  for (const row of table) {
    it(`p95 ${row.p95} and median ${row.median} of ${row.samples.length} samples`, () => {
      assert.equal(percentile(row.samples, 95), row.p95);
      assert.equal(median(row.samples), row.median);
    });
  }
});
