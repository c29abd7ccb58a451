import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startEmulatedAzure, type EmulatedAzure } from '../../test/emulators/server';
import { startStagingApp, type StagingApp } from '../../test/fixtures/staging-app';
import { createSend } from './http-client';

/** A forward proxy on loopback: absolute-form HTTP requests and CONNECT tunnels, counted. */
async function startProxy() {
  const seen = { forwarded: [] as string[], tunnels: [] as string[], authorization: [] as string[] };
  const server = http.createServer((incoming, outgoing) => {
    seen.forwarded.push(incoming.url ?? '');
    seen.authorization.push(incoming.headers['proxy-authorization'] ?? '');
    const target = new URL(incoming.url ?? '');
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: incoming.method,
        headers: incoming.headers,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    incoming.pipe(upstream);
  });
  server.on('connect', (request: http.IncomingMessage, client: net.Socket) => {
    seen.tunnels.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('staging HTTP client: CA and proxy', () => {
  let staging: StagingApp;
  let azure: EmulatedAzure;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  before(async () => {
    staging = await startStagingApp({ '/healthz': { body: 'ok' } });
    azure = await startEmulatedAzure();
    azure.register('staging.azure.test', () => ({ status: 200, body: 'secure ok' }));
    proxy = await startProxy();
  });
  after(async () => {
    await proxy.stop();
    await azure.stop();
    await staging.stop();
  });

  it('trusts Agent.CAInfo for an HTTPS staging endpoint', async () => {
    const client = createSend({ extraCaPem: azure.ca.caPem }, 2);
    try {
      const response = await client.send({
        method: 'GET',
        url: azure.url('staging.azure.test', '/'),
        headers: {},
        timeoutMs: 5000,
      });
      assert.equal(response.body, 'secure ok');
    } finally {
      client.close();
    }
  });

  it('sends plain HTTP through the proxy in absolute form, with its credentials', async () => {
    const client = createSend(
      { proxy: { url: proxy.url, username: 'agent', password: 'proxy-pass', bypass: [] } },
      2,
    );
    try {
      const response = await client.send({
        method: 'GET',
        url: `${staging.url}/healthz`,
        headers: {},
        timeoutMs: 5000,
      });
      assert.equal(response.body, 'ok');
      assert.deepEqual(proxy.seen.forwarded, [`${staging.url}/healthz`]);
      assert.equal(
        proxy.seen.authorization[0],
        `Basic ${Buffer.from('agent:proxy-pass').toString('base64')}`,
      );
    } finally {
      client.close();
    }
  });

  it('tunnels HTTPS through the proxy with CONNECT, still verifying the certificate', async () => {
    const client = createSend({ extraCaPem: azure.ca.caPem, proxy: { url: proxy.url, bypass: [] } }, 2);
    try {
      const response = await client.send({
        method: 'GET',
        url: azure.url('staging.azure.test', '/'),
        headers: {},
        timeoutMs: 5000,
      });
      assert.equal(response.body, 'secure ok');
      assert.deepEqual(proxy.seen.tunnels, [`staging.azure.test:${azure.port}`]);
    } finally {
      client.close();
    }
    const untrusting = createSend({ proxy: { url: proxy.url, bypass: [] } }, 1);
    try {
      await assert.rejects(
        untrusting.send({
          method: 'GET',
          url: azure.url('staging.azure.test', '/'),
          headers: {},
          timeoutMs: 5000,
        }),
        /self-signed|unable to verify|certificate/i,
      );
    } finally {
      untrusting.close();
    }
  });

  it('goes direct for URLs on the bypass list', async () => {
    const before = proxy.seen.forwarded.length;
    const client = createSend({ proxy: { url: proxy.url, bypass: [/127\.0\.0\.1/] } }, 2);
    try {
      await client.send({ method: 'GET', url: `${staging.url}/healthz`, headers: {}, timeoutMs: 5000 });
      assert.equal(proxy.seen.forwarded.length, before);
    } finally {
      client.close();
    }
  });
});
