import * as assert from 'node:assert/strict';
import { startStagingApp, type StagingApp } from '../../test/fixtures/staging-app';
import { runChecks } from './check-runner';
import type { Check } from './checks';
import { HostPool } from './host-pool';
import { createSend } from './http-client';

function check(name: string, fields: Partial<Check> = {}): Check {
  return {
    name,
    method: 'GET',
    target: { path: `/${name}` },
    headers: {},
    status: { codes: [200], classes: [] },
    assertions: [],
    repeat: 1,
    timeoutMs: 5000,
    source: `checks.yaml:1`,
    ...fields,
  };
}

describe('check runner (against the loopback staging app)', () => {
  let app: StagingApp;
  let http: ReturnType<typeof createSend>;
  beforeEach(async () => {
    app = await startStagingApp();
    http = createSend({}, 4);
  });
  afterEach(async () => {
    http.close();
    await app.stop();
  });
  const run = (checks: Check[], retryFailed = 0) =>
    runChecks(checks, app.url, retryFailed, {
      send: http.send,
      pool: new HostPool(4),
      redact: (text) => text,
    });

  it('passes a check whose status and assertions hold, and sends method, headers and body', async () => {
    app.route('/orders', { status: 201, body: { id: 'a1' } });
    const [result] = await run([
      check('orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer t0ken' },
        body: '{"sku":"A1"}',
        status: { codes: [201], classes: [] },
        assertions: [{ target: 'jsonPath', path: '$.id', operator: { op: 'equals', value: 'a1' } }],
      }),
    ]);
    assert.equal(result?.outcome, 'passed', JSON.stringify(result?.failures));
    const seen = app.requests[0];
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.headers.authorization, 'Bearer t0ken');
    assert.equal(seen?.body, '{"sku":"A1"}');
  });

  it('fails on a wrong status and says which', async () => {
    app.fail('/down', 503);
    const [result] = await run([check('down')]);
    assert.equal(result?.outcome, 'failed');
    assert.deepEqual(result?.failures, ['status 503, expected 200 (body: {"error":"injected failure"})']);
  });

  it('retries a flapping check and reports it as flaky with its attempts', async () => {
    app.route('/flappy', { body: 'ok' });
    app.flap('/flappy', 2);
    const [result] = await run([check('flappy')], 2);
    assert.equal(result?.outcome, 'flaky');
    assert.equal(result?.attempts, 3);
    assert.deepEqual(result?.failures, ['status 503, expected 200 (body: {"error":"injected failure"})']);
  });

  it('gives up after the retries allowed', async () => {
    app.route('/flappy', { body: 'ok' });
    app.flap('/flappy', 3);
    const [result] = await run([check('flappy')], 1);
    assert.equal(result?.outcome, 'failed');
    assert.equal(result?.attempts, 2);
  });

  it('checks the latency bound and the p95 over repeats', async () => {
    app.route('/slow', { body: 'ok' });
    app.setLatency(60, '/slow');
    const [single, repeated] = await run([
      check('slow', { maxLatencyMs: 5 }),
      check('slow2', { target: { path: '/slow' }, repeat: 5, p95LatencyMs: 5 }),
    ]);
    assert.deepEqual(single?.failures, ['slower than 5 ms']);
    assert.equal(repeated?.latenciesMs.length, 5);
    assert.match(repeated?.failures[0] ?? '', /^p95 latency \d+ ms over 5 requests is above 5 ms$/);
  });

  it('bounds concurrent requests per host', async () => {
    app.route('/x', { body: 'ok' });
    app.setLatency(20, '/x');
    let inFlight = 0;
    let peak = 0;
    const counting = async (request: Parameters<typeof http.send>[0]) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await http.send(request);
      } finally {
        inFlight--;
      }
    };
    const checks = Array.from({ length: 12 }, (_, i) => check(`c${i}`, { target: { path: '/x' } }));
    const results = await runChecks(checks, app.url, 0, {
      send: counting,
      pool: new HostPool(4),
      redact: (text) => text,
    });
    assert.ok(results.every((r) => r.outcome === 'passed'));
    assert.equal(peak, 4);
  });

  it('marks a check unreachable when nothing answers', async () => {
    const [result] = await runChecks([check('gone')], 'http://127.0.0.1:1', 0, {
      send: http.send,
      pool: new HostPool(2),
      redact: (text) => text,
    });
    assert.equal(result?.unreachable, true);
    assert.match(result?.failures[0] ?? '', /ECONNREFUSED/);
  });
});
