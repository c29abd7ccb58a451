import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatedAzure } from '../test/emulators/server';
import type { Handler } from '../test/emulators/types';
import type { Endpoint } from '../test/harness/agent';
import { appName } from './environment';
import { repoRoot } from './package';

/**
 * The staging and production AKS clusters the AksDeploy steps deploy to, reached through
 * Kubernetes service connections as templates/steps/deploy.yml reaches them through its
 * environment. They need the AksDeploy task in the vsix and the emulated Kubernetes API
 * server (test/emulators/kubernetes/). Until both are there the AksDeploy steps do not
 * run and the demo says why: a deploy is never pretended.
 */
export interface ClusterSupport {
  readonly available: boolean;
  /** Why the AksDeploy steps cannot run yet; empty when they can. */
  readonly reason: string;
}

/** One emulated AKS cluster, as the AksDeploy steps and the demo's own checks see it. */
export interface DemoCluster {
  readonly resourceGroup: string;
  readonly clusterName: string;
  /** The objects the cluster holds in the sample app's namespace (and the namespace), read from its store. */
  objects(): string[];
}

/** The staging and production clusters. */
export interface DemoClusters {
  readonly staging: DemoCluster;
  readonly production: DemoCluster;
  /** The Kubernetes service connections (kubeconfig) the deploy steps use, by id. */
  readonly endpoints: Readonly<Record<string, Endpoint>>;
  /** The connection ids, as templates/steps/deploy.yml reaches a cluster through its environment. */
  readonly connectionOf: (cluster: DemoCluster) => string;
  /** Makes the containers of `image` crash on `cluster`, writing `logs` first. */
  crash(cluster: DemoCluster, image: string, logs: readonly string[]): void;
  /** Stops the clusters' controllers. */
  stop(): void;
}

/** What the demo uses of the Kubernetes emulator's EmulatedCluster. */
interface EmulatedClusterApi {
  readonly name: string;
  readonly host: string;
  readonly handler: Handler;
  getObject(
    kind: string,
    namespace: string | undefined,
    name: string,
  ): { metadata: { name: string } } | undefined;
  listObjects(kind: string, namespace?: string): { metadata: { name: string } }[];
  setImageBehaviour(image: string, behaviour: Record<string, unknown>): void;
  stop(): void;
}

interface KubernetesEmulator {
  EmulatedCluster: new (options: { name: string; tokens: string[]; timeScale: number }) => EmulatedClusterApi;
  kubeconfigYaml(options: {
    clusterName: string;
    userName: string;
    server: string;
    caPem: string;
    user: { token: string };
  }): string;
}

// Loaded only once it exists, so the demo runs (and says what is missing) without it.
function loadKubernetesEmulator(): KubernetesEmulator {
  const dir = join(repoRoot, 'test', 'emulators', 'kubernetes');
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    EmulatedCluster: (require(join(dir, 'cluster')) as Pick<KubernetesEmulator, 'EmulatedCluster'>)
      .EmulatedCluster,
    kubeconfigYaml: (require(join(dir, 'kubeconfig')) as Pick<KubernetesEmulator, 'kubeconfigYaml'>)
      .kubeconfigYaml,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** The kinds the sample app's manifests hold, for reading the cluster back. */
const appKinds = ['ConfigMap', 'Secret', 'Service', 'Deployment'] as const;

/**
 * Starts the staging and production clusters on the emulated Azure's front, each with
 * a token of its own, controllers at a hundredth of real time, and a kubeconfig service
 * connection for it.
 */
export function startClusters(azure: EmulatedAzure): DemoClusters {
  const { EmulatedCluster, kubeconfigYaml } = loadKubernetesEmulator();
  const started = (['staging', 'production'] as const).map((environment) => {
    const token = randomBytes(24).toString('base64url');
    const emulated = new EmulatedCluster({
      name: `aks-sample-${environment}`,
      tokens: [token],
      timeScale: 0.01,
    });
    azure.register(emulated.host, emulated.handler);
    const cluster: DemoCluster = {
      resourceGroup: `rg-sample-${environment}`,
      clusterName: emulated.name,
      objects: () => [
        ...(emulated.getObject('Namespace', undefined, appName) ? [`Namespace//${appName}`] : []),
        ...appKinds.flatMap((kind) =>
          emulated.listObjects(kind, appName).map((object) => `${kind}/${appName}/${object.metadata.name}`),
        ),
      ],
    };
    const endpoint: Endpoint = {
      url: azure.url(emulated.host, '/'),
      scheme: 'Kubernetes',
      parameters: {
        kubeconfig: kubeconfigYaml({
          clusterName: emulated.name,
          userName: `clusterUser_rg-sample-${environment}_${emulated.name}`,
          server: azure.url(emulated.host, '').replace(/\/$/, ''),
          caPem: azure.ca.caPem,
          user: { token },
        }),
      },
      data: { authorizationType: 'Kubeconfig' },
    };
    return { environment, emulated, cluster, endpoint };
  });
  const [staging, production] = started as [(typeof started)[0], (typeof started)[0]];
  return {
    staging: staging.cluster,
    production: production.cluster,
    endpoints: Object.fromEntries(started.map((each) => [`${each.environment}-kubernetes`, each.endpoint])),
    connectionOf: (cluster) => `${started.find((each) => each.cluster === cluster)!.environment}-kubernetes`,
    crash: (cluster, image, logs) =>
      started
        .find((each) => each.cluster === cluster)!
        .emulated.setImageBehaviour(image, { neverReady: true, exitAfterMs: 500, exitCode: 1, logs }),
    stop: () => started.forEach((each) => each.emulated.stop()),
  };
}

/** The parts the AksDeploy steps need, and how the demo names each when it is missing. */
const requiredParts: readonly { readonly path: string; readonly what: string }[] = [
  {
    path: 'test/emulators/kubernetes',
    what: 'the emulated Kubernetes API server (test/emulators/kubernetes/)',
  },
];

/** Whether the AksDeploy steps can run, given whether the vsix holds AksDeploy. */
export function clusterSupport(hasAksDeployTask: boolean): ClusterSupport {
  const missing = [
    ...(hasAksDeployTask ? [] : ['the AksDeploy task in the vsix']),
    ...requiredParts.filter((part) => !existsSync(join(repoRoot, part.path))).map((part) => part.what),
  ];
  if (missing.length > 0) {
    return {
      available: false,
      reason: `AksDeploy@1 is not available yet: missing ${missing.join(' and ')}.`,
    };
  }
  return { available: true, reason: '' };
}
