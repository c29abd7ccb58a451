import * as assert from 'node:assert/strict';
import type { IncomingResponse, OutgoingRequest } from './http-client';
import { waitUntilReady } from './readiness';

/** A fake clock: sleeping advances it, so backoff runs instantly. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

function answers(...statuses: (number | Error)[]) {
  const seen: OutgoingRequest[] = [];
  const send = async (request: OutgoingRequest): Promise<IncomingResponse> => {
    seen.push(request);
    const next = statuses.length > 1 ? statuses.shift() : statuses[0];
    if (next instanceof Error) throw next;
    return { status: next as number, headers: {}, body: '', latencyMs: 1 };
  };
  return { send, seen };
}

describe('readiness wait', () => {
  it('polls with doubling backoff until 2xx', async () => {
    const time = fakeTime();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const { send } = answers(refused, 503, 503, 503, 200);
    const readiness = await waitUntilReady('http://app/ready', 60_000, { send, ...time });
    assert.deepEqual(readiness, { ready: true, polls: 5, waitedMs: 15_000 });
    assert.deepEqual(time.sleeps, [1000, 2000, 4000, 8000]);
  });

  it('caps the backoff at 10 s and times out with the last thing it saw', async () => {
    const time = fakeTime();
    const { send } = answers(503);
    const readiness = await waitUntilReady('http://app/ready', 45_000, { send, ...time });
    assert.equal(readiness.ready, false);
    assert.equal(readiness.ready === false && readiness.lastSeen, 'status 503');
    assert.deepEqual(time.sleeps, [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    assert.equal(readiness.waitedMs, 45_000);
  });

  it('gives the poll at the deadline at least a second to answer', async () => {
    const time = fakeTime();
    const { send, seen } = answers(503);
    await waitUntilReady('http://app/ready', 2_000, { send, ...time });
    assert.deepEqual(
      seen.map((request) => request.timeoutMs),
      [2000, 1000, 1000],
    );
  });

  it('reports a connection failure as the last thing seen', async () => {
    const time = fakeTime();
    const { send } = answers(
      Object.assign(new Error('getaddrinfo ENOTFOUND staging'), { code: 'ENOTFOUND' }),
    );
    const readiness = await waitUntilReady('http://staging/ready', 3_000, { send, ...time });
    assert.equal(readiness.ready === false && readiness.lastSeen, 'getaddrinfo ENOTFOUND staging');
  });
});
