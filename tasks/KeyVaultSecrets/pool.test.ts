import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { createPool, mapPool } from './pool';

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

  it('takes work added while earlier work runs, in order, never above the bound', async () => {
    const pool = createPool(2);
    let inFlight = 0;
    let peak = 0;
    const started: string[] = [];
    const work = (name: string) => async () => {
      started.push(name);
      peak = Math.max(peak, ++inFlight);
      for (let i = 0; i < 3; i++) await tick();
      inFlight--;
      return name;
    };
    const first = ['a', 'b', 'c'].map((name) => pool.run(work(name)));
    await tick();
    assert.deepEqual(started, ['a', 'b']);
    const later = ['d', 'e'].map((name) => pool.run(work(name)));
    assert.deepEqual(await Promise.all([...first, ...later]), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(started, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(peak, 2);
  });

  it('passes a failure on to its caller and frees the slot', async () => {
    const pool = createPool(1);
    const failed = pool.run(() => Promise.reject(new Error('boom')));
    const next = pool.run(async () => 'next');
    await assert.rejects(failed, /boom/);
    assert.equal(await next, 'next');
  });
});
