import * as assert from 'node:assert/strict';
import { HostPool } from './host-pool';

describe('host pool', () => {
  it('never runs more than perHost jobs for one host, and does not hold up other hosts', async () => {
    const pool = new HostPool(3);
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    const releases: (() => void)[] = [];
    const job = (host: string) => () =>
      new Promise<void>((resolve) => {
        inFlight.set(host, (inFlight.get(host) ?? 0) + 1);
        peak.set(host, Math.max(peak.get(host) ?? 0, inFlight.get(host) ?? 0));
        releases.push(() => {
          inFlight.set(host, (inFlight.get(host) ?? 0) - 1);
          resolve();
        });
      });
    const all = [
      ...Array.from({ length: 10 }, () => pool.run('a', job('a'))),
      ...Array.from({ length: 2 }, () => pool.run('b', job('b'))),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(inFlight.get('a'), 3);
    assert.equal(inFlight.get('b'), 2, 'host b runs while a is saturated');
    while (releases.length > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(all);
    assert.equal(peak.get('a'), 3);
  });

  it('frees the slot when a job throws', async () => {
    const pool = new HostPool(1);
    await assert.rejects(
      pool.run('a', () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await pool.run('a', () => Promise.resolve(7)), 7);
  });
});
