import * as tl from 'azure-pipelines-task-lib/task';
import { boolean, integer, lines, oneOf, optionalString, requiredString } from '../shared/inputs';

/** How the task reaches the cluster, as the `connectionType` input names it. */
export const connectionTypes = ['azureResourceManager', 'kubernetesServiceConnection'] as const;

/** Where the cluster's credentials come from, before any of them is read. */
export type ClusterSource =
  | {
      readonly type: 'azureResourceManager';
      readonly resourceGroup: string;
      readonly clusterName: string;
      readonly useClusterAdmin: boolean;
    }
  | { readonly type: 'kubernetesServiceConnection'; readonly connectionId?: string };

/** The task's inputs, parsed; the connections themselves are read by the shell. */
export interface TaskInputs {
  readonly cluster: ClusterSource;
  /** The `namespace` input; undefined when empty. */
  readonly namespace?: string;
  readonly manifestPatterns: readonly string[];
  readonly imageLines: readonly string[];
  readonly imagePullSecrets: readonly string[];
  /** Seconds; 0 means apply without waiting. */
  readonly rolloutTimeoutSeconds: number;
  readonly rollbackOnFailure: boolean;
  readonly prune: boolean;
  readonly dryRun: boolean;
}

/** The longest rollout wait accepted: one day. */
const maxRolloutTimeoutSeconds = 86_400;

/** Reads and parses every input once; the first problem is one TaskError naming the input. */
export function readInputs(): TaskInputs {
  const manifestPatterns = lines('manifests');
  if (manifestPatterns.length === 0) requiredString('manifests', tl.loc('ManifestsHint'));
  const chosen = oneOf('connectionType', connectionTypes, 'azureResourceManager');
  const kubernetesConnection = optionalString('kubernetesServiceConnection');
  // In a deployment job that targets an environment's Kubernetes resource, Azure Pipelines
  // fills the empty connectedService:kubernetes input with that resource's connection (as
  // KubernetesManifest@1 relies on). With no Azure connection chosen, that is the cluster,
  // even when connectionType kept its default.
  const type =
    chosen === 'azureResourceManager' && kubernetesConnection && !optionalString('azureSubscription')
      ? 'kubernetesServiceConnection'
      : chosen;
  const cluster: ClusterSource =
    type === 'azureResourceManager'
      ? {
          type,
          resourceGroup: requiredString('resourceGroup', tl.loc('ResourceGroupHint')),
          clusterName: requiredString('clusterName', tl.loc('ClusterNameHint')),
          useClusterAdmin: boolean('useClusterAdmin', false),
        }
      : { type, ...optionalField('connectionId', kubernetesConnection) };
  return {
    cluster,
    ...optionalField('namespace', optionalString('namespace')),
    manifestPatterns,
    imageLines: lines('images'),
    imagePullSecrets: lines('imagePullSecrets'),
    rolloutTimeoutSeconds: integer('rolloutTimeout', 600, 0, maxRolloutTimeoutSeconds),
    rollbackOnFailure: boolean('rollbackOnFailure', true),
    prune: boolean('prune', false),
    dryRun: boolean('dryRun', false),
  };
}

function optionalField<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
