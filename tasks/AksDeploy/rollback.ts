import type { ResourceInfo } from '../shared/kubernetes/discovery';
import { isRecord, type KubeObject } from '../shared/kubernetes/object';
import { builtIn, core, type Cluster } from './cluster';
import { hasFieldPath } from './field-path';

/** The workload kinds a failed rollout is rolled back for. */
export const rollbackKinds = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

/** A workload whose rollout failed: what this deploy applied, and what the cluster holds now. */
export interface FailedWorkload {
  readonly info: ResourceInfo;
  /** The configuration this deploy applied (server-side apply, as the task's field manager). */
  readonly applied: KubeObject;
  readonly live: KubeObject;
}

/** The outcome of restoring one workload: restored (to wait on), or why not. */
export type Restore =
  | { readonly kind: 'restored'; readonly live: KubeObject; readonly revision: string }
  | { readonly kind: 'skipped'; readonly reason: string };

/** A pod template and the revision it belongs to. */
interface Revision {
  readonly template: Record<string, unknown>;
  readonly revision: string;
  /** The ControllerRevision's name, for StatefulSets and DaemonSets. */
  readonly name?: string;
}

/**
 * Puts a failed workload's previous pod template back, the one `kubectl rollout undo`
 * would choose, by applying this deploy's own configuration with that template: a
 * server-side apply as the same field manager. (A patch would be an Update, which the
 * API server records as a different manager from the Apply one even under the same
 * name, so the next release's apply would conflict with the rollback's fields.) Where
 * another manager co-owns a field the deploy itself applied, the rollback takes it
 * (force); a field only someone else owns stops the rollback, with the reason.
 */
export async function restorePreviousRevision(cluster: Cluster, workload: FailedWorkload): Promise<Restore> {
  const { info, applied, live } = workload;
  const previous =
    live.kind === 'Deployment'
      ? await previousReplicaSetTemplate(cluster, live)
      : live.kind === 'StatefulSet'
        ? await previousStatefulSetTemplate(cluster, live)
        : await previousDaemonSetTemplate(cluster, live);
  if (!previous) return { kind: 'skipped', reason: 'not rolled back: no previous revision found' };
  const config = structuredClone(applied);
  config.spec = { ...(isRecord(config.spec) ? config.spec : {}), template: previous.template };
  let result = await cluster.apply(info, config, live, { dryRun: false, force: false });
  if (result.kind === 'conflict') {
    const foreign = result.conflicts.find((conflict) => !hasFieldPath(applied, conflict.field));
    if (foreign)
      return {
        kind: 'skipped',
        reason: `not rolled back: the field ${foreign.field} of the previous revision is managed by '${foreign.manager}'`,
      };
    result = await cluster.apply(info, config, live, { dryRun: false, force: true });
    if (result.kind === 'conflict')
      return { kind: 'skipped', reason: 'not rolled back: the apply conflicted' };
  }
  if (live.kind === 'StatefulSet') await deleteStuckPods(cluster, live, previous.name);
  return { kind: 'restored', live: result.live, revision: previous.revision };
}

const revisionAnnotation = 'deployment.kubernetes.io/revision';

/** The pod template of the Deployment's ReplicaSet with the highest revision below the current one. */
async function previousReplicaSetTemplate(
  cluster: Cluster,
  deployment: KubeObject,
): Promise<Revision | undefined> {
  const revisionOf = (o: KubeObject): number => Number(o.metadata.annotations?.[revisionAnnotation] ?? 0);
  const current = revisionOf(deployment);
  const owned = (await cluster.list(builtIn('ReplicaSet'), deployment.metadata.namespace)).items.filter(
    (rs) => rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata.uid),
  );
  const previous = owned
    .filter((rs) => revisionOf(rs) < current || current === 0)
    .sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  if (!previous || !isRecord(previous.spec) || !isRecord(previous.spec.template)) return undefined;
  const template = structuredClone(previous.spec.template) as {
    metadata?: { labels?: Record<string, string> };
  };
  // The controller adds this label to its ReplicaSets' templates; the Deployment's own has none.
  delete template.metadata?.labels?.['pod-template-hash'];
  return { template: template as Record<string, unknown>, revision: String(revisionOf(previous)) };
}

/** The workload's ControllerRevisions, newest first. */
async function revisionsOf(cluster: Cluster, owner: KubeObject): Promise<KubeObject[]> {
  const { items } = await cluster.list(builtIn('ControllerRevision'), owner.metadata.namespace);
  return items
    .filter((r) => r.metadata.ownerReferences?.some((o) => o.uid === owner.metadata.uid))
    .sort((a, b) => revisionNumber(b) - revisionNumber(a));
}

const revisionNumber = (revision: KubeObject): number => Number(revision.revision ?? 0);

/**
 * The template a ControllerRevision holds: its data is a strategic merge patch
 * `{ spec: { template: { ..., $patch: replace } } }`.
 */
function templateOf(revision: KubeObject): Revision | undefined {
  const data = isRecord(revision.data) ? revision.data : undefined;
  const spec = data && isRecord(data.spec) ? data.spec : undefined;
  if (!spec || !isRecord(spec.template)) return undefined;
  const template = structuredClone(spec.template);
  delete template.$patch;
  return { template, revision: String(revisionNumber(revision)), name: revision.metadata.name ?? '' };
}

/** The revision before the StatefulSet's update revision. */
async function previousStatefulSetTemplate(
  cluster: Cluster,
  statefulSet: KubeObject,
): Promise<Revision | undefined> {
  const status = isRecord(statefulSet.status) ? statefulSet.status : {};
  const revisions = await revisionsOf(cluster, statefulSet);
  const update = revisions.find((r) => r.metadata.name === status.updateRevision);
  const previous = revisions.find(
    (r) => r !== update && (!update || revisionNumber(r) < revisionNumber(update)),
  );
  return previous && templateOf(previous);
}

/**
 * The DaemonSet's second-newest revision, as `kubectl rollout undo` picks it (the newest
 * is the one that failed). DaemonSets keep their history only in ControllerRevisions.
 */
async function previousDaemonSetTemplate(
  cluster: Cluster,
  daemonSet: KubeObject,
): Promise<Revision | undefined> {
  const revisions = await revisionsOf(cluster, daemonSet);
  return revisions.length < 2 ? undefined : templateOf(revisions[1]!);
}

/**
 * With OrderedReady, the StatefulSet controller waits for the broken pod to become ready
 * before it replaces it, which it never does: the documented fix ("forced rollback") is
 * to delete the failed revision's pods once the template is reverted.
 * https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#forced-rollback
 */
async function deleteStuckPods(
  cluster: Cluster,
  statefulSet: KubeObject,
  restoredRevision: string | undefined,
): Promise<void> {
  const status = isRecord(statefulSet.status) ? statefulSet.status : {};
  const failedRevision = typeof status.updateRevision === 'string' ? status.updateRevision : undefined;
  if (!failedRevision || failedRevision === restoredRevision) return;
  const pods = core('pods', 'Pod');
  for (const pod of await cluster.podsOf(statefulSet)) {
    if (pod.metadata.labels?.['controller-revision-hash'] === failedRevision && !isPodReady(pod))
      await cluster.delete(pods, pod.metadata.namespace, pod.metadata.name ?? '');
  }
}

function isPodReady(pod: KubeObject): boolean {
  const conditions =
    isRecord(pod.status) && Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  return conditions.some((c: unknown) => isRecord(c) && c.type === 'Ready' && c.status === 'True');
}
