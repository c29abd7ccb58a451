// The service as it runs in a container: started as its own process from the sources,
// exercised over HTTP, stopped with SIGTERM. It also needs the orders database's
// connection string, a Key Vault secret that reaches the tests only through the
// pipeline step's `env:`; the sample keeps its orders in memory, so the tests only check
// that it arrived.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const appRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const { version } = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8'));
const connectionString =
  'InstrumentationKey=8f1c0e2a-9b8d-4c6e-8f0a-1b2c3d4e5f60;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/';
const secretVariable = 'ORDERS_DB_CONNECTION';

/** Starts src/server.mjs on a free port; resolves once it says where it listens, or when it exits. */
async function start(env = {}) {
  const child = spawn(process.execPath, ['src/server.mjs'], {
    cwd: appRoot,
    env: { PATH: process.env.PATH, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const exited = once(child, 'exit').then(([code]) => code);
  const listening = new Promise((resolve) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const port = line.match(/ listening on port (\d+) /)?.[1];
        if (port) resolve(`http://127.0.0.1:${port}`);
      });
    }
  });
  const url = await Promise.race([listening, exited.then(() => undefined)]);
  return { child, url, lines, exited };
}

describe('orders-api, started as a process', () => {
  let service;
  before(async () => {
    service = await start({
      APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
      ENVIRONMENT: 'integration',
    });
    assert.ok(service.url, `the service did not start:\n${service.lines.join('\n')}`);
  });
  after(() => service.child.kill());

  it(`gets ${secretVariable} from the pipeline (a Key Vault secret, passed through env:)`, () => {
    const seenFile = join(appRoot, 'test-results', 'secret-seen.json');
    rmSync(seenFile, { force: true }); // an earlier run's proof is no proof of this one
    const value = process.env[secretVariable];
    if (!value) {
      const error = new Error(
        `${secretVariable} is not set: in the pipeline, KeyVaultSecrets@1 loads it from Key Vault as a secret variable, which reaches a script only through the step's env: (${secretVariable}: $(${secretVariable})); locally, run ${secretVariable}=<connection string> npm run test:integration.`,
      );
      error.stack = error.message; // where the check sits says nothing; the message says it all
      throw error;
    }
    // The proof that the tests saw the secret: its hash, never its value.
    mkdirSync(dirname(seenFile), { recursive: true });
    const sha256 = createHash('sha256').update(value).digest('hex');
    writeFileSync(seenFile, `${JSON.stringify({ variable: secretVariable, sha256 }, null, 2)}\n`);
  });

  it('says it is healthy, ready and which version it is', async () => {
    assert.deepEqual(await (await fetch(`${service.url}/healthz`)).json(), { status: 'ok', version });
    assert.equal((await fetch(`${service.url}/ready`)).status, 200);
    const about = await (await fetch(`${service.url}/api/version`)).json();
    assert.equal(about.version, version);
    assert.equal(about.environment, 'integration');
  });

  it('takes an order and lists it', async () => {
    const created = await fetch(`${service.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: 'integration', items: [{ sku: 'Z9', quantity: 4 }] }),
    });
    assert.equal(created.status, 201);
    const order = await created.json();
    const { orders } = await (await fetch(`${service.url}/api/orders`)).json();
    assert.deepEqual(orders.at(-1), order);
  });

  it('logs its start and one line per request', async () => {
    await (await fetch(`${service.url}/api/orders/ord-0001`)).text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(
      service.lines[0],
      new RegExp(
        `info orders-api ${version.replaceAll('.', '\\.')} listening on port \\d+ \\(environment integration; Application Insights at westeurope-5\\.in\\.applicationinsights\\.azure\\.com\\)$`,
      ),
    );
    assert.ok(
      service.lines.some((line) => / info GET \/api\/orders\/ord-0001 200 [\d.]+ms$/.test(line)),
      service.lines.join('\n'),
    );
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const stopping = await start();
    stopping.child.kill('SIGTERM');
    assert.equal(await stopping.exited, 0);
    assert.match(stopping.lines.at(-1), / info closed$/);
  });

  it('refuses to start with a malformed connection string, in one line that does not repeat it', async () => {
    const broken = await start({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=s3cr3t' });
    assert.equal(broken.url, undefined);
    assert.equal(await broken.exited, 1);
    assert.equal(broken.lines.length, 1, broken.lines.join('\n'));
    assert.match(
      broken.lines[0],
      / error APPLICATIONINSIGHTS_CONNECTION_STRING is malformed: its InstrumentationKey is not a GUID\. /,
    );
    assert.doesNotMatch(broken.lines[0], /s3cr3t/);
  });
});
