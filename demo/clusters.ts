import { randomBytes } from 'node:crypto';
import { EmulatedCluster } from '../test/emulators/kubernetes/cluster';
import { kubeconfigYaml } from '../test/emulators/kubernetes/kubeconfig';
import type { EmulatedAzure } from '../test/emulators/server';
import type { Endpoint } from '../test/harness/agent';
import { appName } from './environment';

/**
 * Whether the AksDeploy steps can run. They deploy to the staging and production clusters
 * of the emulated Kubernetes API server, reached through Kubernetes service connections as
 * templates/steps/deploy.yml reaches them through its environment. Without the task in the
 * vsix they do not run and the demo says why: a deploy is never pretended.
 */
export interface ClusterSupport {
  readonly available: boolean;
  /** Why the AksDeploy steps cannot run; empty when they can. */
  readonly reason: string;
}

/** Whether the AksDeploy steps can run: the vsix must hold the AksDeploy task. */
export function clusterSupport(hasAksDeployTask: boolean): ClusterSupport {
  return hasAksDeployTask
    ? { available: true, reason: '' }
    : { available: false, reason: 'AksDeploy@1 is not available: the vsix holds no AksDeploy task.' };
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

/** The kinds the sample app's manifests hold, for reading the cluster back. */
const appKinds = ['ConfigMap', 'Secret', 'Service', 'Deployment'] as const;

/**
 * Starts the staging and production clusters on the emulated Azure's front, each with
 * a token of its own, controllers at a hundredth of real time, and a kubeconfig service
 * connection for it.
 */
export function startClusters(azure: EmulatedAzure): DemoClusters {
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
