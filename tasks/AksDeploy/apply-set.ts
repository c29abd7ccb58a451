import { createHash } from 'node:crypto';
import type { KubeObject } from '../shared/kubernetes/object';

/**
 * The ApplySet (KEP-3659) this task's objects belong to, so that `prune` deletes only
 * what the same pipeline applied before. The parent is a Secret named after the set in
 * the deploy's namespace; its id label follows kubectl's formula
 * (base64url(sha256(<name>.<namespace>.Secret.)) with a `applyset-` prefix and `-v1`
 * suffix), and each member carries `applyset.kubernetes.io/part-of=<id>`.
 */
export interface ApplySet {
  readonly parentName: string;
  readonly parentNamespace: string;
  readonly id: string;
}

/** The label every member carries. */
export const partOfLabel = 'applyset.kubernetes.io/part-of';
/** The parent's annotation listing the member group-kinds, e.g. `Deployment.apps,Service`. */
export const groupKindsAnnotation = 'applyset.kubernetes.io/contains-group-kinds';
/** The parent's annotation listing namespaces other than its own that hold members. */
export const namespacesAnnotation = 'applyset.kubernetes.io/additional-namespaces';

/**
 * The set for one pipeline's deploys into one namespace: named from the project and
 * pipeline ids so that reruns and later runs of the pipeline share it, and two pipelines
 * deploying to one namespace never prune each other's objects.
 */
export function applySetFor(projectId: string, definitionId: string, namespace: string): ApplySet {
  const stable = createHash('sha256').update(`${projectId}/${definitionId}`).digest('hex').slice(0, 12);
  const parentName = `aksdeploy-${stable}`;
  const id = `applyset-${createHash('sha256').update(`${parentName}.${namespace}.Secret.`).digest('base64url')}-v1`;
  return { parentName, parentNamespace: namespace, id };
}

/** `Kind.group` as ApplySet spells a group-kind (`Service` for the core group). */
export function groupKind(kind: string, group: string): string {
  return group ? `${kind}.${group}` : kind;
}

/** Reads `Kind.group` back into its parts. */
export function parseGroupKind(text: string): { kind: string; group: string } {
  const dot = text.indexOf('.');
  return dot < 0 ? { kind: text, group: '' } : { kind: text.slice(0, dot), group: text.slice(dot + 1) };
}

/** A copy of the object labelled as a member of the set. */
export function withMembership(object: KubeObject, set: ApplySet): KubeObject {
  return {
    ...object,
    metadata: { ...object.metadata, labels: { ...object.metadata.labels, [partOfLabel]: set.id } },
  };
}

/** The parent Secret to apply, listing the group-kinds and namespaces of the members (old and new). */
export function parentObject(
  set: ApplySet,
  groupKinds: readonly string[],
  namespaces: readonly string[],
): KubeObject {
  const others = [...new Set(namespaces)].filter((ns) => ns !== set.parentNamespace).sort();
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: set.parentName,
      namespace: set.parentNamespace,
      labels: { 'applyset.kubernetes.io/id': set.id },
      annotations: {
        'applyset.kubernetes.io/tooling': 'AksDeploy/v1',
        [groupKindsAnnotation]: [...new Set(groupKinds)].sort().join(','),
        [namespacesAnnotation]: others.join(','),
      },
    },
  };
}
