import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/app.mjs';
import { createLogger } from '../../src/log.mjs';
import { createOrderBook } from '../../src/orders.mjs';

const build = {
  name: 'orders-api',
  version: '1.2.3',
  commit: 'abc1234',
  builtAt: '2025-01-02T03:04:05.000Z',
};

/** Serves an app on a free loopback port; returns its base URL, its log lines and the app. */
async function serve(options = {}) {
  const lines = [];
  const stream = { write: (text) => lines.push(text) };
  const log = createLogger({ out: stream, err: stream, now: () => new Date(0) });
  const app = createApp({
    build,
    orders: createOrderBook(),
    log,
    environment: 'test',
    failChecks: false,
    ...options,
  });
  const server = createServer(app.handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    lines,
    app,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const postJson = (url, body, headers = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('orders API', () => {
  let service;
  before(async () => {
    service = await serve();
  });
  after(() => service.close());

  it('GET /healthz says ok and the version', async () => {
    const response = await fetch(`${service.url}/healthz`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await response.json(), { status: 'ok', version: '1.2.3' });
  });

  it('GET /api/version reports the build, the environment and Node', async () => {
    const response = await fetch(`${service.url}/api/version`);
    assert.deepEqual(await response.json(), { ...build, environment: 'test', node: process.version });
  });

  it('GET /api/orders lists the orders', async () => {
    const body = await (await fetch(`${service.url}/api/orders`)).json();
    assert.equal(body.count, 2);
    assert.deepEqual(
      body.orders.map((order) => order.customer),
      ['contoso', 'fabrikam'],
    );
  });

  it('POST /api/orders adds an order and says where it is', async () => {
    const response = await postJson(`${service.url}/api/orders`, {
      customer: 'northwind',
      items: [{ sku: 'A1', quantity: 3 }],
    });
    assert.equal(response.status, 201);
    const order = await response.json();
    assert.equal(response.headers.get('location'), `/api/orders/${order.id}`);
    assert.deepEqual(await (await fetch(`${service.url}${response.headers.get('location')}`)).json(), order);
  });

  it('POST /api/orders answers 400 with every problem of an invalid order', async () => {
    const response = await postJson(`${service.url}/api/orders`, {
      customer: '',
      items: [{ sku: 'A1', quantity: 0 }],
    });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.error, 'invalid order');
    assert.equal(body.problems.length, 2);
  });

  for (const [name, send, status, error] of [
    ['a body that is not JSON', (url) => postJson(url, '{"customer":'), 400, 'the body is not valid JSON'],
    [
      'a body that is not declared JSON',
      (url) => fetch(url, { method: 'POST', body: 'customer=x' }),
      415,
      /^send the order as JSON/,
    ],
    [
      'a body over 64 KiB',
      (url) => postJson(url, { customer: 'x'.repeat(70_000), items: [] }),
      413,
      'the body is over 65536 bytes',
    ],
  ]) {
    it(`POST /api/orders answers ${status} to ${name}`, async () => {
      const response = await send(`${service.url}/api/orders`);
      assert.equal(response.status, status);
      const body = await response.json();
      if (error instanceof RegExp) assert.match(body.error, error);
      else assert.equal(body.error, error);
    });
  }

  it('answers 404 to an unknown route or order, and 405 with Allow to a wrong method', async () => {
    assert.equal((await fetch(`${service.url}/nowhere`)).status, 404);
    assert.deepEqual(await (await fetch(`${service.url}/api/orders/ord-9999`)).json(), {
      error: 'no order ord-9999',
    });
    const response = await fetch(`${service.url}/api/orders`, { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, POST');
  });

  it('logs one line per request, with the path but not the query', async () => {
    const before = service.lines.length;
    await (await fetch(`${service.url}/healthz?token=s3cr3t`)).text();
    // The line is written when the response finishes, which may follow the body by a tick.
    await new Promise((resolve) => setImmediate(resolve));
    const lines = service.lines.slice(before);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^1970-01-01T00:00:00\.000Z info GET \/healthz 200 \d+\.\dms\n$/);
  });

  it('GET /ready says ready until the service stops accepting', async () => {
    const ready = await serve();
    try {
      assert.deepEqual(await (await fetch(`${ready.url}/ready`)).json(), { ready: true });
      ready.app.stopAccepting();
      const response = await fetch(`${ready.url}/ready`);
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), { ready: false });
    } finally {
      await ready.close();
    }
  });
});

describe('orders API with ORDERS_FAIL_CHECKS', () => {
  let service;
  before(async () => {
    service = await serve({ failChecks: true });
  });
  after(() => service.close());

  it('reports degraded health, still with 200', async () => {
    const response = await fetch(`${service.url}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'degraded', version: '1.2.3' });
  });

  it('answers 500 on the order routes', async () => {
    for (const response of [
      await fetch(`${service.url}/api/orders`),
      await postJson(`${service.url}/api/orders`, { customer: 'c', items: [{ sku: 'A1', quantity: 1 }] }),
      await fetch(`${service.url}/api/orders/ord-0001`),
    ]) {
      assert.equal(response.status, 500);
      assert.deepEqual(await response.json(), { error: 'orders are unavailable (ORDERS_FAIL_CHECKS is on)' });
    }
  });

  it('still answers /ready, so the release rolls out and fails its acceptance checks', async () => {
    assert.equal((await fetch(`${service.url}/ready`)).status, 200);
  });
});
