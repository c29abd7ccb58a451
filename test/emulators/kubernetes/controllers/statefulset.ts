import { clone, safeHash, type KubeObject } from '../object';
import {
  countAvailable,
  createOwned,
  isPodReady,
  isPodTerminating,
  listDue,
  owned,
  podFromTemplate,
  recordEvent,
  remove,
  writeObject,
  writeStatus,
  type ControllerContext,
} from './context';

const revisionLabel = 'controller-revision-hash';

/**
 * The StatefulSet controller: ordinal pods (`<name>-<i>`), one ControllerRevision per
 * template, OrderedReady creation, and RollingUpdate from the highest ordinal down to
 * `partition`, one pod at a time, each only once the others are ready.
 */
export function reconcileStatefulSets(context: ControllerContext): void {
  for (const set of listDue(context, 'apps', 'StatefulSet')) syncStatefulSet(context, set);
}

/** Finds or creates the ControllerRevision for an owner's current template; returns its name. */
export function ensureRevision(
  context: ControllerContext,
  owner: KubeObject,
  template: KubeObject,
  hashOnly: boolean,
): { name: string; hash: string } {
  const hash = safeHash(template);
  const name = `${owner.metadata.name}-${hash}`;
  const revisions = owned(context, owner, 'apps', 'ControllerRevision');
  const next = Math.max(0, ...revisions.map((each) => Number(each.revision ?? 0))) + 1;
  const equal = revisions.find((each) => each.metadata.name === name);
  if (equal) {
    // A template seen before (a rollback) reuses its revision, which becomes the newest
    // again, as the controllers' history does (k8s.io/kubernetes pkg/controller/history,
    // used by statefulset's getStatefulSetRevisions and daemonset's constructHistory).
    if (Number(equal.revision ?? 0) < next - 1) writeObject(context, equal, { ...equal, revision: next });
  } else {
    createOwned(context, owner, 'apps', 'ControllerRevision', {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        labels: { ...(template.metadata?.labels ?? {}), [revisionLabel]: hashOnly ? hash : name },
      },
      data: { spec: { template: { ...clone(template), $patch: 'replace' } } },
      revision: next,
    });
  }
  return { name, hash };
}

function syncStatefulSet(context: ControllerContext, set: KubeObject): void {
  const spec = set.spec ?? {};
  const replicas = Number(spec.replicas ?? 1);
  const update = ensureRevision(context, set, spec.template, false).name;
  const current = String(set.status?.currentRevision ?? update);
  const partition =
    spec.updateStrategy?.type === 'RollingUpdate'
      ? Number(spec.updateStrategy.rollingUpdate?.partition ?? 0)
      : replicas;
  const ordered = spec.podManagementPolicy !== 'Parallel';
  const revisions = owned(context, set, 'apps', 'ControllerRevision');
  const templateOf = (revision: string): KubeObject =>
    revisions.find((each) => each.metadata.name === revision)?.data?.spec?.template ?? spec.template;
  const pods = new Map<number, KubeObject>();
  // An ordinal whose pod is terminating is taken until that pod is gone: its successor has
  // the same name, so it waits (the StatefulSet controller's identity guarantee).
  const terminating = new Set<number>();
  for (const pod of owned(context, set, '', 'Pod')) {
    const ordinal = Number(/-(\d+)$/.exec(pod.metadata.name)?.[1]);
    if (!Number.isInteger(ordinal)) continue;
    if (isPodTerminating(pod)) terminating.add(ordinal);
    else pods.set(ordinal, pod);
  }

  // Scale up in order, each pod waiting for the one before it to be ready.
  for (let ordinal = 0; ordinal < replicas; ordinal++) {
    const existing = pods.get(ordinal);
    if (existing) {
      if (ordered && !isPodReady(existing)) break;
      continue;
    }
    if (terminating.has(ordinal)) {
      if (ordered) break;
      continue;
    }
    const revision = ordinal < partition && current !== update ? current : update;
    const template = clone(templateOf(revision));
    delete template.$patch;
    const name = `${set.metadata.name}-${ordinal}`;
    const pod = createOwned(context, set, '', 'Pod', {
      ...podFromTemplate(
        template,
        {
          [revisionLabel]: revision,
          'statefulset.kubernetes.io/pod-name': name,
          'apps.kubernetes.io/pod-index': String(ordinal),
        },
        name,
      ),
      spec: { ...clone(template.spec ?? {}), hostname: name, subdomain: spec.serviceName },
    });
    recordEvent(
      context,
      set,
      'Normal',
      'SuccessfulCreate',
      `create Pod ${name} in StatefulSet ${set.metadata.name} successful`,
      'statefulset-controller',
    );
    pods.set(ordinal, pod);
    if (ordered) break;
  }
  // Scale down from the highest ordinal.
  for (const ordinal of [...pods.keys()].sort((a, b) => b - a)) {
    if (ordinal < replicas) continue;
    const pod = pods.get(ordinal)!;
    remove(context, pod);
    recordEvent(
      context,
      set,
      'Normal',
      'SuccessfulDelete',
      `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
      'statefulset-controller',
    );
    pods.delete(ordinal);
    if (ordered) break;
  }
  // Rolling update: replace the highest outdated ordinal at or above the partition once all are ready.
  const inRange = [...pods.entries()].filter(([ordinal]) => ordinal < replicas);
  if (
    spec.updateStrategy?.type === 'RollingUpdate' &&
    terminating.size === 0 &&
    inRange.length === replicas &&
    inRange.every(([, pod]) => isPodReady(pod))
  ) {
    const outdated = inRange
      .filter(([ordinal, pod]) => ordinal >= partition && pod.metadata.labels?.[revisionLabel] !== update)
      .sort(([a], [b]) => b - a)[0];
    if (outdated) {
      remove(context, outdated[1]);
      recordEvent(
        context,
        set,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${outdated[1].metadata.name} in StatefulSet ${set.metadata.name} successful`,
        'statefulset-controller',
      );
      pods.delete(outdated[0]);
    }
  }

  const all = [...pods.values()];
  const ready = all.filter(isPodReady).length;
  const updated = all.filter((pod) => pod.metadata.labels?.[revisionLabel] === update).length;
  const done = updated === replicas && all.length === replicas;
  const currentRevision = done ? update : current;
  const currentReplicas = done
    ? updated
    : all.filter((pod) => pod.metadata.labels?.[revisionLabel] === current).length;
  writeStatus(context, set, {
    observedGeneration: set.metadata.generation,
    replicas: all.length,
    readyReplicas: ready,
    currentReplicas,
    updatedReplicas: updated,
    currentRevision,
    updateRevision: update,
    collisionCount: 0,
    availableReplicas: countAvailable(context, all, spec.minReadySeconds),
  });
}
