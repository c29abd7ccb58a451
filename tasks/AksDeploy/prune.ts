import type { ResourceInfo } from '../shared/kubernetes/discovery';
import { objectKey, type KubeObject } from '../shared/kubernetes/object';
import { TaskError } from '../shared/task-error';
import {
  groupKind,
  groupKindsAnnotation,
  namespacesAnnotation,
  parentObject,
  parseGroupKind,
  partOfLabel,
  type ApplySet,
} from './apply-set';
import { core, type Cluster } from './cluster';
import type { PruneLimit } from './config';

/** An object of this deploy, placed, with its resource. */
export interface PlannedObject {
  readonly info: ResourceInfo;
  readonly object: KubeObject;
}

/** What the set's parent Secret recorded of earlier deploys. */
export interface ApplySetRecord {
  readonly parent?: KubeObject;
  readonly kinds: readonly string[];
  readonly namespaces: readonly string[];
}

const secrets = core('secrets', 'Secret');

/** Reads the set's parent: the group-kinds and namespaces its members were in. */
export async function readApplySet(cluster: Cluster, set: ApplySet): Promise<ApplySetRecord> {
  const parent = await cluster.get(secrets, set.parentNamespace, set.parentName);
  const list = (annotation: string) =>
    (parent?.metadata.annotations?.[annotation] ?? '').split(',').filter(Boolean);
  return {
    ...(parent ? { parent } : {}),
    kinds: list(groupKindsAnnotation),
    namespaces: list(namespacesAnnotation),
  };
}

/**
 * The members of the set that this deploy no longer holds: what a prune deletes. Only
 * reads (a list per group-kind and namespace, by the set's label), so it runs before
 * anything is applied and a refused prune leaves the cluster as it was.
 */
export async function findPruneCandidates(
  cluster: Cluster,
  set: ApplySet,
  record: ApplySetRecord,
  planned: readonly PlannedObject[],
): Promise<PlannedObject[]> {
  const current = new Set(planned.map((p) => objectKey(p.object)));
  const namespaces = planned.map((p) => p.object.metadata.namespace).filter((ns): ns is string => !!ns);
  const searchNamespaces = [...new Set([set.parentNamespace, ...record.namespaces, ...namespaces])];
  const kinds = planned.map((p) => groupKind(p.object.kind, p.info.group));
  const candidates: PlannedObject[] = [];
  for (const text of new Set([...record.kinds, ...kinds])) {
    const { kind, group } = parseGroupKind(text);
    const known = planned.find((p) => p.object.kind === kind && p.info.group === group)?.info;
    const info = known ?? (await resolveGroupKind(cluster, kind, group));
    if (!info) continue;
    for (const namespace of info.namespaced ? searchNamespaces : [undefined]) {
      const { items } = await cluster.list(info, namespace, { labelSelector: `${partOfLabel}=${set.id}` });
      for (const item of items) {
        // One already being deleted (its namespace terminating, finalizers running) is going anyway.
        if (item.metadata.deletionTimestamp) continue;
        if (item.metadata.labels?.[partOfLabel] === set.id && !current.has(objectKey(item)))
          candidates.push({ info, object: item });
      }
    }
  }
  return candidates;
}

/** The most objects an error line names. */
const listedObjects = 5;

/**
 * Refuses a prune that deletes more than `limit` allows: by default no more objects
 * than the deploy applies, so that a manifests input that lost most of its files (or a
 * glob that now matches the wrong folder) cannot wipe out what the pipeline deployed.
 * (Argo CD's automated sync refuses to prune an application down to nothing unless
 * `allowEmpty` is set; this guard also catches the deploy that shrank by most of it.)
 */
export function checkPruneLimit(
  candidates: readonly PlannedObject[],
  applying: number,
  limit: PruneLimit,
): void {
  if (candidates.length === 0) return;
  const max = limit.kind === 'applied' ? applying : limit.kind === 'count' ? limit.count : Infinity;
  if (candidates.length <= max) return;
  const names = candidates.slice(0, listedObjects).map((c) => describeObject(c.object));
  const more = candidates.length > listedObjects ? ` and ${candidates.length - listedObjects} more` : '';
  const listed = `${names.join(', ')}${more}`;
  if (limit.kind === 'applied')
    throw new TaskError('PruneMoreThanApplied', [candidates.length, listed, applying, candidates.length]);
  throw new TaskError('PruneLimitExceeded', [candidates.length, listed, max, candidates.length]);
}

/** Deletes what the prune found, letting the garbage collector take dependents. */
export async function deleteCandidates(
  cluster: Cluster,
  candidates: readonly PlannedObject[],
  log: (line: string) => void,
): Promise<void> {
  for (const { info, object } of candidates) {
    await cluster.delete(info, object.metadata.namespace, object.metadata.name ?? '');
    log(`${describeObject(object)} pruned`);
  }
}

/**
 * Records the set's members in its parent. Until a prune has removed the old members,
 * the parent keeps listing their kinds and namespaces too, so a later prune finds them.
 */
export async function recordApplySet(
  cluster: Cluster,
  set: ApplySet,
  record: ApplySetRecord,
  planned: readonly PlannedObject[],
  pruned: boolean,
): Promise<void> {
  const kinds = planned.map((p) => groupKind(p.object.kind, p.info.group));
  const namespaces = planned.map((p) => p.object.metadata.namespace).filter((ns): ns is string => !!ns);
  const parent = pruned
    ? parentObject(set, kinds, namespaces)
    : parentObject(set, [...record.kinds, ...kinds], [...record.namespaces, ...namespaces]);
  await cluster.apply(secrets, parent, record.parent, { dryRun: false, force: false });
}

/** `Kind namespace/name`, or `Kind name` for a cluster-scoped object. */
export function describeObject(object: KubeObject): string {
  return object.metadata.namespace
    ? `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`
    : `${object.kind} ${object.metadata.name}`;
}

async function resolveGroupKind(
  cluster: Cluster,
  kind: string,
  group: string,
): Promise<ResourceInfo | undefined> {
  const versions = group === '' ? ['v1'] : ['v1', 'v1beta1', 'v2'];
  for (const version of versions) {
    const info = await cluster.discovery.resolve(group ? `${group}/${version}` : version, kind);
    if (info) return info;
  }
  return undefined;
}
