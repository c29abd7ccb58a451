import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './package';

/**
 * The staging and production AKS clusters the AksDeploy steps deploy to. They need three
 * things that land separately: the AksDeploy task in the vsix, the emulated Kubernetes API
 * server (test/emulators/kubernetes/) and the ARM AKS endpoints (test/emulators/aks.ts).
 * Until all three are there, and the demo drives them, the AksDeploy steps do not run and
 * the demo says why: a deploy is never pretended.
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
  stop(): Promise<void>;
}

/** The parts the AksDeploy steps need, and how the demo names each when it is missing. */
const requiredParts: readonly { readonly path: string; readonly what: string }[] = [
  {
    path: 'test/emulators/kubernetes',
    what: 'the emulated Kubernetes API server (test/emulators/kubernetes/)',
  },
  { path: 'test/emulators/aks.ts', what: 'the emulated ARM AKS endpoints (test/emulators/aks.ts)' },
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
  return {
    available: false,
    reason:
      'AksDeploy@1 is not available yet: its emulated clusters exist, but the demo does not drive them yet.',
  };
}
