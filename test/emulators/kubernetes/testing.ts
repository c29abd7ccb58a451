import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { startEmulatedAzure, type EmulatedAzure } from '../server';
import { EmulatedCluster, type ClusterOptions } from './cluster';
import { kubeconfigYaml } from './kubeconfig';

/** One cluster on its own front, with a token, for the emulator's own tests. */
export interface ClusterFixture {
  readonly azure: EmulatedAzure;
  readonly cluster: EmulatedCluster;
  readonly token: string;
  /** A kubeconfig for Node clients: `https://<name>.hcp.azure.test:<port>`. */
  readonly kubeconfig: string;
  /** A kubeconfig file for kubectl (loopback address, tls-server-name). */
  readonly kubectlConfigPath: string;
  /** Runs kubectl against the cluster; resolves with its exit code and output. */
  kubectl(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Starts a front with one cluster (timeScale 0.01 unless told) registered on it. */
export async function startClusterFixture(options: Partial<ClusterOptions> = {}): Promise<ClusterFixture> {
  const azure = await startEmulatedAzure();
  const token = 'local-account-token-for-tests';
  const cluster = new EmulatedCluster({ name: 'staging', tokens: [token], timeScale: 0.01, ...options });
  azure.register(cluster.host, cluster.handler);
  azure.register('127.0.0.1', cluster.loopbackHandler);
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-'));
  const kubectlConfigPath = join(dir, 'config');
  writeFileSync(kubectlConfigPath, kubectlKubeconfig(azure, cluster, token), { mode: 0o600 });
  return {
    azure,
    cluster,
    token,
    kubeconfig: kubeconfigYaml({
      clusterName: cluster.name,
      userName: 'tests',
      server: azure.url(cluster.host, '').replace(/\/$/, ''),
      caPem: azure.ca.caPem,
      user: { token },
    }),
    kubectlConfigPath,
    kubectl: (args, input) => runKubectl(kubectlConfigPath, args, input),
    async stop() {
      cluster.stop();
      await azure.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A kubeconfig kubectl can use: it does not see our DNS hook, so it dials 127.0.0.1 and verifies the cluster's name. */
export function kubectlKubeconfig(azure: EmulatedAzure, cluster: EmulatedCluster, token: string): string {
  return kubeconfigYaml({
    clusterName: cluster.name,
    userName: 'tests',
    server: `https://127.0.0.1:${azure.port}${cluster.loopbackPath}`,
    tlsServerName: cluster.host,
    caPem: azure.ca.caPem,
    user: { token },
  });
}

/**
 * Runs the machine's kubectl with a kubeconfig; never rejects. `binary` (or else the
 * `KUBECTL` environment variable) names another binary, to run with another kubectl
 * release than the one on PATH.
 */
export function runKubectl(
  kubeconfigPath: string,
  args: readonly string[],
  input?: string,
  binary?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      binary || process.env.KUBECTL || 'kubectl',
      ['--kubeconfig', kubeconfigPath, ...args],
      { timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Polls a condition (the controllers run on timers) until it holds, for up to 20 s. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A kubectl release to run tests with: its binary, or why there is none on this machine. */
export type KubectlRelease =
  | { readonly release: string; readonly binary: string; readonly version: string }
  | { readonly release: string; readonly absent: string };

/**
 * The binaries of some kubectl releases (`1.31`). Google's kubectl package puts a
 * dispatcher at /usr/bin/kubectl, which runs the release matching the server's version,
 * with each release beside it as `kubectl.<minor release>`: those are run directly. A
 * plain kubectl on the PATH stands for its own release. `KUBECTL`, when set, is the only
 * binary used: every release it is not is absent.
 */
export function findKubectlReleases(releases: readonly string[]): KubectlRelease[] {
  const named = process.env.KUBECTL;
  const onPath = named ? undefined : whichKubectl();
  const candidates = named ? [named] : onPath ? [onPath] : [];
  const beside = (release: string) =>
    onPath ? join(dirname(realpathSync(onPath)), `kubectl.${release}`) : undefined;
  return releases.map((release) => {
    const own = beside(release);
    for (const binary of own && existsSync(own) ? [own, ...candidates] : candidates) {
      const version = clientVersion(binary);
      if (version?.startsWith(`v${release}.`)) return { release, binary, version };
    }
    const looked = named
      ? `KUBECTL=${named}`
      : onPath
        ? `${onPath} and ${beside(release)}`
        : 'no kubectl on the PATH';
    return { release, absent: `no kubectl ${release} here (looked at ${looked})` };
  });
}

function whichKubectl(): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(folder || '.', 'kubectl');
    if (existsSync(path)) return path;
  }
  return undefined;
}

// `v1.32.5`, or undefined when the binary does not run; a dispatcher reports its own
// version with a `-dispatcher` suffix, and stands for no release.
function clientVersion(binary: string): string | undefined {
  try {
    const out = execFileSync(binary, ['version', '--client', '-o', 'json'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const version = (JSON.parse(out) as { clientVersion?: { gitVersion?: string } }).clientVersion
      ?.gitVersion;
    return version && !version.includes('dispatcher') ? version : undefined;
  } catch {
    return undefined;
  }
}
