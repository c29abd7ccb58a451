import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestCertificateAuthority } from './certificates';

/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8), started on
 * loopback with TLS from the run's CA and a fresh storage folder, so every test that asks
 * for one gets an empty registry that speaks the real wire protocol, quirks included.
 */
export interface RegistryInstance {
  /** `https://127.0.0.1:<port>`: the registry itself, without the ACR front. */
  readonly url: string;
  /** `127.0.0.1:<port>`, as skopeo and other clients address it. */
  readonly host: string;
  /** The storage root; deleted on stop. */
  readonly storageDir: string;
  /** A folder holding `ca.crt`, the layout skopeo's `--*-cert-dir` expects. */
  readonly certDir: string;
  /** Stops the process and deletes its storage. */
  stop(): Promise<void>;
}

/** Where Debian installs the registry binary; the tests need `apt-get install docker-registry`. */
export const registryBinary = '/usr/bin/docker-registry';

/**
 * Starts a registry on a free loopback port and waits until `/v2/` answers. `hostNames`
 * adds names to its certificate, for clients that reach it through a name of their own.
 */
export async function startRegistry(
  ca: TestCertificateAuthority,
  options: { readonly hostNames?: readonly string[] } = {},
): Promise<RegistryInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const storageDir = join(dir, 'storage');
  const certDir = join(dir, 'certs');
  const leaf = await ca.issue(['127.0.0.1', 'localhost', ...(options.hostNames ?? [])]);
  writeFileSync(join(dir, 'tls.crt'), leaf.certPem, { mode: 0o600 });
  writeFileSync(join(dir, 'tls.key'), leaf.keyPem, { mode: 0o600 });
  mkdirSync(certDir, { mode: 0o700 });
  writeFileSync(join(certDir, 'ca.crt'), ca.caPem);
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), registryConfig(port, storageDir, dir));

  const child = spawn(registryBinary, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `https://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, ca.caPem, child);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`docker-registry did not start: ${(error as Error).message}\n${stderr}`);
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    storageDir,
    certDir,
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// relativeurls: the ACR SDK and our front both assume upload Locations relative to the
// host the client used, which is how ACR answers; distribution makes them absolute otherwise.
function registryConfig(port: number, storageDir: string, dir: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  relativeurls: true',
    '  tls:',
    `    certificate: ${join(dir, 'tls.crt')}`,
    `    key: ${join(dir, 'tls.key')}`,
    '',
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url: string, caPem: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error('the process exited');
    if (await answers(`${url}/v2/`, caPem)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no answer on /v2/ within 15 s');
}

function answers(url: string, caPem: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ca: caPem, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
