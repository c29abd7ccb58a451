import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import * as https from 'node:https';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { startEmulatedAzure, type EmulatedAzure } from './server';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

function request(azure: EmulatedAzure, host: string, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = https.request(azure.url(host, path), { method, ca: azure.ca.caPem }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () =>
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('emulated Azure front', () => {
  let azure: EmulatedAzure;

  before(async () => {
    azure = await startEmulatedAzure();
    azure.register('login.azure.test', (req) => ({
      status: 200,
      body: { service: 'login', path: req.url.pathname },
    }));
    azure.register('*.vault.azure.test', (req) =>
      req.url.pathname === '/secrets'
        ? { status: 200, body: { vault: req.url.hostname.split('.')[0] } }
        : undefined,
    );
    azure.register(/^[a-z0-9]+\.azurecr\.azure\.test$/, () => ({ status: 200, body: 'registry' }));
  });
  after(() => azure.stop());
  afterEach(() => azure.reset());

  const routing = [
    { host: 'login.azure.test', path: '/t/v2.0', status: 200, contains: '"service":"login"' },
    { host: 'kv1.vault.azure.test', path: '/secrets', status: 200, contains: '"vault":"kv1"' },
    { host: 'kv1.vault.azure.test', path: '/keys', status: 404, contains: '"code":"NotFound"' },
    { host: 'vault.azure.test', path: '/secrets', status: 404, contains: '"code":"NotFound"' },
    { host: 'prod.azurecr.azure.test', path: '/v2/', status: 200, contains: 'registry' },
    { host: 'management.azure.test', path: '/subscriptions', status: 404, contains: 'No emulated service' },
  ];
  for (const row of routing) {
    it(`routes ${row.host}${row.path} to ${row.status}`, async () => {
      const reply = await request(azure, row.host, row.path);
      assert.equal(reply.status, row.status);
      assert.ok(reply.text.includes(row.contains), reply.text);
    });
  }

  it('logs method, host, path and status', async () => {
    await request(azure, 'login.azure.test', '/t/oauth2/v2.0/token?x=1', 'POST');
    assert.deepEqual(azure.requests, [
      {
        method: 'POST',
        host: 'login.azure.test',
        path: '/t/oauth2/v2.0/token?x=1',
        status: 200,
        fault: undefined,
      },
    ]);
  });

  it('throttles with 429 and Retry-After for the given number of requests, then answers', async () => {
    azure.injectFault({
      match: (req) => req.url.hostname === 'login.azure.test',
      fault: { kind: 'throttle', retryAfterSeconds: 7 },
      times: 2,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const reply = await request(azure, 'login.azure.test', '/x');
      statuses.push(reply.status);
      if (reply.status === 429) assert.equal(reply.headers['retry-after'], '7');
    }
    assert.deepEqual(statuses, [429, 429, 200]);
    assert.deepEqual(
      azure.requests.map((entry) => entry.fault),
      ['throttle', 'throttle', undefined],
    );
  });

  for (const status of [500, 502, 503, 504] as const) {
    it(`injects a ${status} with an Azure-shaped body`, async () => {
      azure.injectFault({ match: () => true, fault: { kind: 'status', status }, times: 1 });
      const reply = await request(azure, 'login.azure.test', '/x');
      assert.equal(reply.status, status);
      assert.ok(JSON.parse(reply.text).error.code);
      assert.equal((await request(azure, 'login.azure.test', '/x')).status, 200);
    });
  }

  it('drops the connection without a response', async () => {
    azure.injectFault({ match: () => true, fault: { kind: 'drop' }, times: 1 });
    await assert.rejects(request(azure, 'login.azure.test', '/x'), /socket hang up|ECONNRESET/);
    assert.deepEqual(azure.requests[0], {
      method: 'GET',
      host: 'login.azure.test',
      path: '/x',
      status: 0,
      fault: 'drop',
    });
    assert.equal((await request(azure, 'login.azure.test', '/x')).status, 200);
  });

  it('only faults requests the rule matches, and clearFaults removes pending rules', async () => {
    azure.injectFault({
      match: (req) => req.url.hostname.endsWith('.vault.azure.test'),
      fault: { kind: 'status', status: 503 },
      times: 5,
    });
    assert.equal((await request(azure, 'login.azure.test', '/x')).status, 200);
    assert.equal((await request(azure, 'kv.vault.azure.test', '/secrets')).status, 503);
    azure.clearFaults();
    assert.equal((await request(azure, 'kv.vault.azure.test', '/secrets')).status, 200);
  });

  it('delays matching requests only', async () => {
    azure.setLatency(300, (req) => req.url.hostname === 'login.azure.test');
    const finished: string[] = [];
    await Promise.all([
      request(azure, 'login.azure.test', '/slow').then(() => finished.push('slow')),
      request(azure, 'kv.vault.azure.test', '/secrets').then(() => finished.push('fast')),
    ]);
    assert.deepEqual(finished, ['fast', 'slow']);
  });

  it('builds URLs and authorities with the port', () => {
    assert.equal(azure.url('login.azure.test', '/t'), `https://login.azure.test:${azure.port}/t`);
    assert.equal(azure.authority('vault.azure.test'), `vault.azure.test:${azure.port}`);
  });

  it('keeps the CA in a private file', () => {
    assert.equal(statSync(azure.ca.caFile).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(azure.ca.caFile)).mode & 0o777, 0o700);
  });

  it('gives a spawned process what it needs to reach the emulators over verified TLS', async () => {
    const script = `require('https').get(${JSON.stringify(azure.url('login.azure.test', '/child'))}, (r) => {
      let t = ''; r.on('data', (c) => (t += c)); r.on('end', () => process.stdout.write(r.statusCode + ' ' + t));
    }).on('error', (e) => { process.stdout.write('error ' + e.message); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '', ...azure.env() },
    });
    assert.equal(stdout, '200 {"service":"login","path":"/child"}');
  });
});
