import * as tl from 'azure-pipelines-task-lib/task';
import { boolean, integer, oneOf, optionalString, requiredString } from '../shared/inputs';
import { TaskError } from '../shared/task-error';
import { splitArguments } from './command-line';
import { parseImageLines, type PinnedImage } from './image-reference';
import { isNamespaceName, isSecretName, quoted } from './names';

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

/** One non-empty line of a multi-line input, trimmed, with its 1-based line number. */
export interface NumberedLine {
  readonly line: number;
  readonly text: string;
}

/**
 * How many objects a prune may delete: `applied` (the default) no more than the deploy
 * applies, `count` at most that many, `unlimited` any number.
 */
export type PruneLimit =
  | { readonly kind: 'applied' }
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'unlimited' };

/** How kustomization folders are rendered. */
export interface KustomizeInputs {
  /** The `kustomizeArgs` input, split into arguments. */
  readonly args: readonly string[];
  /** The `kustomizeBinary` input: a path or a name on the PATH; undefined for the agent's kubectl. */
  readonly binary?: string;
}

/** The task's inputs, parsed; the connections themselves are read by the shell. */
export interface TaskInputs {
  readonly cluster: ClusterSource;
  /** The `namespace` input; undefined when empty. */
  readonly namespace?: string;
  readonly manifestPatterns: readonly NumberedLine[];
  readonly images: readonly PinnedImage[];
  readonly imagePullSecrets: readonly string[];
  /** Seconds; 0 means apply without waiting. */
  readonly rolloutTimeoutSeconds: number;
  readonly rollbackOnFailure: boolean;
  readonly prune: boolean;
  readonly pruneLimit: PruneLimit;
  readonly dryRun: boolean;
  readonly kustomize: KustomizeInputs;
  /** Inputs that are legal but do nothing as given, localised: the task ends SucceededWithIssues. */
  readonly warnings: readonly string[];
}

/** The longest rollout wait accepted: one day. */
const maxRolloutTimeoutSeconds = 86_400;

/** The largest `pruneLimit` number accepted. */
const maxPruneLimit = 1_000_000;

/** Reads and parses every input once; the first problem is one TaskError naming the input. */
export function readInputs(): TaskInputs {
  const manifestPatterns = numberedLines('manifests');
  if (manifestPatterns.length === 0) requiredString('manifests', tl.loc('ManifestsHint'));
  const chosen = quoting(() => oneOf('connectionType', connectionTypes, 'azureResourceManager'));
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
          useClusterAdmin: quoting(() => boolean('useClusterAdmin', false)),
        }
      : { type, ...optionalField('connectionId', kubernetesConnection) };
  const prune = quoting(() => boolean('prune', false));
  const limit = pruneLimit();
  const warnings: string[] = [];
  if (!prune && limit.kind !== 'applied')
    warnings.push(tl.loc('PruneLimitWithoutPrune', quoted(optionalString('pruneLimit') ?? '')));
  return {
    cluster,
    ...optionalField('namespace', namespaceInput()),
    manifestPatterns,
    images: parseImageLines(numberedLines('images')),
    imagePullSecrets: imagePullSecrets(),
    rolloutTimeoutSeconds: quoting(() => integer('rolloutTimeout', 600, 0, maxRolloutTimeoutSeconds)),
    rollbackOnFailure: quoting(() => boolean('rollbackOnFailure', true)),
    prune,
    pruneLimit: limit,
    dryRun: quoting(() => boolean('dryRun', false)),
    kustomize: { args: kustomizeArgs(), ...optionalField('binary', optionalString('kustomizeBinary')) },
    warnings,
  };
}

/** A multi-line input's non-empty lines, trimmed, each with the line number the user sees in the editor. */
export function numberedLines(name: string): NumberedLine[] {
  return (tl.getInput(name, false) ?? '')
    .split(/\r?\n/)
    .map((text, index) => ({ line: index + 1, text: text.trim() }))
    .filter((entry) => entry.text.length > 0);
}

/**
 * Runs a shared input reader, cutting the values its error quotes to 200 characters: a
 * 120 KB value pasted into a one-line input must not come back whole in the error line.
 */
function quoting<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof TaskError)) throw error;
    const args = error.args.map((arg) => (typeof arg === 'string' ? quoted(arg) : arg));
    throw new TaskError(error.key, args, error.cause);
  }
}

/** The `namespace` input, which must be a namespace name the API server accepts. */
function namespaceInput(): string | undefined {
  const namespace = optionalString('namespace');
  if (namespace !== undefined && !isNamespaceName(namespace))
    throw new TaskError('NamespaceInputInvalid', [quoted(namespace)]);
  return namespace;
}

/** The `imagePullSecrets` input: Secret names (DNS-1123 subdomains), one per line. */
function imagePullSecrets(): string[] {
  return numberedLines('imagePullSecrets').map(({ line, text }) => {
    if (!isSecretName(text)) throw new TaskError('ImagePullSecretInvalid', [line, quoted(text)]);
    return text;
  });
}

/**
 * The `kustomizeArgs` input, split as a shell splits words. `-o`/`--output` would send the
 * rendered objects to a file instead of to the task, so they are refused.
 */
function kustomizeArgs(): string[] {
  const raw = optionalString('kustomizeArgs');
  if (raw === undefined) return [];
  const args = splitArguments(raw);
  if (!args) throw new TaskError('KustomizeArgsUnclosedQuote', [quoted(raw)]);
  const output = args.find((arg) => /^(?:-o|--output)(?:=.*)?$/.test(arg) || /^-o./.test(arg));
  if (output !== undefined) throw new TaskError('KustomizeArgsOutput', [quoted(output)]);
  return args;
}

/** The `pruneLimit` input: `applied` (default), `unlimited` or a whole number. */
function pruneLimit(): PruneLimit {
  const raw = optionalString('pruneLimit');
  if (raw === undefined || /^applied$/i.test(raw)) return { kind: 'applied' };
  if (/^unlimited$/i.test(raw)) return { kind: 'unlimited' };
  const count = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(count) || count > maxPruneLimit)
    throw new TaskError('PruneLimitInvalid', [maxPruneLimit, quoted(raw)]);
  return { kind: 'count', count };
}

function optionalField<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
