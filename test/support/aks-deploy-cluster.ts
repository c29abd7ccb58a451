import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runTask, type Endpoint, type TaskRunResult } from '../harness/agent';
import { EmulatedCluster } from '../emulators/kubernetes/cluster';
import { kubectlKubeconfig, runKubectl } from '../emulators/kubernetes/testing';
import { startEmulatedAzure, type EmulatedAzure } from '../emulators/server';

/** The registry host the AksDeploy tests write into image references (never pulled from). */
export const registry = 'registry.azure.test:5000';

/** One AksDeploy run: the manifest files to write under the sources folder, and the inputs. */
export interface DeployRun {
  /** File path (relative to the sources folder) to its content. */
  readonly files: Readonly<Record<string, string | Buffer>>;
  readonly inputs?: Readonly<Record<string, string>>;
  readonly node?: 'node20' | 'node24';
  /** Service connections by id; `k8s` is the cluster's service-account connection unless given. */
  readonly endpoints?: Readonly<Record<string, Endpoint>>;
  readonly variables?: Readonly<Record<string, string>>;
  /** Values besides the cluster's token that must never reach the log. */
  readonly secrets?: readonly string[];
  /** Environment over the emulators' (for example a PATH without kubectl). */
  readonly env?: Readonly<Record<string, string>>;
}

/** An emulated cluster on its own front, with what AksDeploy's integration tests need around it. */
export interface AksDeployCluster {
  readonly azure: EmulatedAzure;
  readonly cluster: EmulatedCluster;
  /** The bearer token the `k8s` connection uses (a secret the leak check looks for). */
  readonly token: string;
  /** The service-account connection to the cluster, with extra endpoint data. */
  serviceAccountEndpoint(data?: Record<string, string>): Endpoint;
  /** Runs the bundled AksDeploy@1 with `kubernetesServiceConnection: k8s`, `rolloutTimeout: 30` unless given. */
  deploy(run: DeployRun): Promise<TaskRunResult>;
  /** The machine's kubectl against the cluster. */
  kubectl(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Writes `text` to a temporary file kubectl can read with -f; removed by stop(). */
  tempFile(name: string, text: string): string;
  /** Every write (POST, PUT, PATCH, DELETE) that reached the cluster since the last azure.reset(). */
  writes(): { method: string; path: string }[];
  stop(): Promise<void>;
}

/** Starts the emulated cloud with one cluster (controllers at 1/100 of their real durations). */
export async function startAksDeployCluster(
  options: { imageExists?: (reference: string) => Promise<boolean> } = {},
): Promise<AksDeployCluster> {
  const azure = await startEmulatedAzure();
  const token = 'staging-deployer-token';
  const cluster = new EmulatedCluster({
    name: 'staging',
    tokens: [token],
    timeScale: 0.01,
    ...(options.imageExists ? { imageExists: options.imageExists } : {}),
  });
  azure.register(cluster.host, cluster.handler);
  azure.register('127.0.0.1', cluster.loopbackHandler);
  const dir = mkdtempSync(join(tmpdir(), 'aks-deploy-kubectl-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, kubectlKubeconfig(azure, cluster, token), { mode: 0o600 });

  const serviceAccountEndpoint = (data: Record<string, string> = {}): Endpoint => ({
    url: azure.url(cluster.host),
    scheme: 'Token',
    parameters: { apiToken: Buffer.from(token).toString('base64') },
    data: { authorizationType: 'ServiceAccount', ...data },
  });

  return {
    azure,
    cluster,
    token,
    serviceAccountEndpoint,
    deploy: (run) =>
      runTask({
        task: 'AksDeploy',
        node: run.node ?? 'node20',
        inputs: {
          connectionType: 'kubernetesServiceConnection',
          kubernetesServiceConnection: 'k8s',
          rolloutTimeout: '30',
          ...run.inputs,
        },
        endpoints: run.endpoints ?? { k8s: serviceAccountEndpoint() },
        ...(run.variables ? { variables: run.variables } : {}),
        env: { ...azure.env(), ...run.env },
        secrets: [token, ...(run.secrets ?? [])],
        prepare: (dirs) => {
          for (const [file, content] of Object.entries(run.files)) {
            mkdirSync(dirname(join(dirs.sources, file)), { recursive: true });
            writeFileSync(join(dirs.sources, file), content);
          }
        },
      }),
    kubectl: (args, input) => runKubectl(kubeconfig, args, input),
    tempFile(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    writes: () =>
      azure.requests
        .filter((r) => r.host === cluster.host && r.method !== 'GET')
        .map(({ method, path }) => ({ method, path })),
    async stop() {
      cluster.stop();
      await azure.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Deployment, StatefulSet or DaemonSet of one container; StatefulSets get a serviceName. */
export function workloadYaml(
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet',
  name: string,
  image: string,
  options: { replicas?: number } = {},
): string {
  return [
    'apiVersion: apps/v1',
    `kind: ${kind}`,
    `metadata: { name: ${name} }`,
    'spec:',
    ...(kind === 'DaemonSet' ? [] : [`  replicas: ${options.replicas ?? 2}`]),
    ...(kind === 'StatefulSet' ? [`  serviceName: ${name}`] : []),
    `  selector: { matchLabels: { app: ${name} } }`,
    '  template:',
    `    metadata: { labels: { app: ${name} } }`,
    `    spec: { containers: [{ name: ${name}, image: "${image}" }] }`,
  ].join('\n');
}

/** A Namespace manifest. */
export const namespaceYaml = (name: string): string =>
  `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${name} }`;

/** A ConfigMap manifest; `data` is a YAML flow mapping. */
export const configMapYaml = (name: string, data: string, namespace?: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}${namespace ? `, namespace: ${namespace}` : ''} }\ndata: ${data}`;

/** YAML documents joined into one stream. */
export const documents = (...docs: string[]): string => docs.join('\n---\n');
