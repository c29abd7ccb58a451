import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { mapPool } from './pool';

describe('KeyVaultSecrets pool', () => {
  it('keeps at most `concurrency` calls in flight and the results in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapPool([5, 1, 4, 2, 3, 0, 6], 3, async (turns) => {
      peak = Math.max(peak, ++inFlight);
      for (let i = 0; i < turns; i++) await tick();
      inFlight--;
      return turns * 10;
    });
    assert.deepEqual(results, [50, 10, 40, 20, 30, 0, 60]);
    assert.equal(peak, 3);
  });

  it('starts a new call as soon as a slot frees, not after a batch', async () => {
    const started: number[] = [];
    await mapPool([3, 1, 1, 1], 2, async (turns) => {
      started.push(turns);
      for (let i = 0; i < turns; i++) await tick();
    });
    assert.deepEqual(started, [3, 1, 1, 1]);
  });

  it('starts nothing more once told to stop', async () => {
    let calls = 0;
    const results = await mapPool(
      [1, 2, 3, 4],
      1,
      async (n) => {
        calls++;
        return n;
      },
      () => calls >= 2,
    );
    assert.deepEqual(results, [1, 2, undefined, undefined]);
  });
});
