import { clone, deepEqual, safeHash, timestamp, type KubeObject } from '../object';
import {
  condition,
  createOwned,
  intOrPercent,
  listDue,
  owned,
  recordEvent,
  remove,
  writeObject,
  writeStatus,
  type ControllerContext,
} from './context';

const revisionAnnotation = 'deployment.kubernetes.io/revision';

/**
 * The Deployment controller: one ReplicaSet per pod template (named and labelled by
 * its pod-template-hash), rolling updates within maxSurge/maxUnavailable (or Recreate),
 * revision annotations, status counts, and the Available and Progressing conditions
 * with the real reasons, ProgressDeadlineExceeded included.
 * https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status
 */
export class DeploymentController {
  // When each deployment last made progress (ms), finer than the condition's seconds.
  private readonly lastProgress = new Map<string, number>();
  private readonly hashes = new WeakMap<KubeObject, string>();

  constructor(private readonly context: ControllerContext) {}

  /** One pass over every Deployment. */
  reconcile(): void {
    for (const deployment of listDue(this.context, 'apps', 'Deployment')) this.sync(deployment);
  }

  private sync(deployment: KubeObject): void {
    const context = this.context;
    const spec = deployment.spec ?? {};
    const desired = Number(spec.replicas ?? 1);
    let replicaSets = owned(context, deployment, 'apps', 'ReplicaSet');
    const hash = this.hashOf(spec.template);
    const maxRevision = Math.max(
      0,
      ...replicaSets.map((each) => Number(each.metadata.annotations?.[revisionAnnotation] ?? 0)),
    );
    let newRs = replicaSets.find((each) => each.metadata.labels?.['pod-template-hash'] === hash);
    const at = timestamp(new Date(context.now()));
    let progressReason: { reason: string; message: string } | undefined;

    if (spec.paused) {
      this.writeStatus(deployment, replicaSets, newRs, undefined);
      return;
    }

    if (!newRs) {
      const template = clone(spec.template);
      template.metadata ??= {};
      template.metadata.labels = { ...template.metadata.labels, 'pod-template-hash': hash };
      const name = `${deployment.metadata.name}-${hash}`;
      newRs = createOwned(context, deployment, 'apps', 'ReplicaSet', {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          labels: template.metadata.labels,
          annotations: {
            'deployment.kubernetes.io/desired-replicas': String(desired),
            'deployment.kubernetes.io/max-replicas': String(desired + this.maxSurge(deployment, desired)),
            [revisionAnnotation]: String(maxRevision + 1),
          },
        },
        spec: {
          replicas: 0,
          minReadySeconds: spec.minReadySeconds ?? 0,
          selector: {
            ...clone(spec.selector),
            matchLabels: { ...spec.selector?.matchLabels, 'pod-template-hash': hash },
          },
          template,
        },
      });
      replicaSets = [...replicaSets, newRs];
      progressReason = { reason: 'NewReplicaSetCreated', message: `Created new replica set "${name}"` };
    } else if (Number(newRs.metadata.annotations?.[revisionAnnotation] ?? 0) < maxRevision) {
      // A rollback to an older template makes its ReplicaSet the newest revision again.
      newRs = writeObject(context, newRs, {
        ...newRs,
        metadata: {
          ...newRs.metadata,
          annotations: { ...newRs.metadata.annotations, [revisionAnnotation]: String(maxRevision + 1) },
        },
      });
      replicaSets = replicaSets.map((each) => (each.metadata.uid === newRs!.metadata.uid ? newRs! : each));
      progressReason = {
        reason: 'FoundNewReplicaSet',
        message: `Found new replica set "${newRs.metadata.name}"`,
      };
    }
    const revision = newRs.metadata.annotations?.[revisionAnnotation];
    if (deployment.metadata.annotations?.[revisionAnnotation] !== revision) {
      deployment = writeObject(context, deployment, {
        ...deployment,
        metadata: {
          ...deployment.metadata,
          annotations: { ...deployment.metadata.annotations, [revisionAnnotation]: revision },
        },
      });
    }

    const olds = replicaSets.filter((each) => each.metadata.uid !== newRs!.metadata.uid);
    const scale = (replicaSet: KubeObject, replicas: number): KubeObject => {
      const current = Number(replicaSet.spec.replicas ?? 0);
      if (current === replicas) return replicaSet;
      const verb = replicas > current ? 'up' : 'down';
      recordEvent(
        context,
        deployment,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${verb} replica set ${replicaSet.metadata.name} from ${current} to ${replicas}`,
        'deployment-controller',
      );
      return writeObject(context, replicaSet, {
        ...replicaSet,
        metadata: {
          ...replicaSet.metadata,
          annotations: {
            ...replicaSet.metadata.annotations,
            'deployment.kubernetes.io/desired-replicas': String(desired),
          },
        },
        spec: { ...replicaSet.spec, replicas },
      });
    };
    const specReplicas = (replicaSet: KubeObject) => Number(replicaSet.spec.replicas ?? 0);
    const available = (replicaSet: KubeObject) => Number(replicaSet.status?.availableReplicas ?? 0);

    if (spec.strategy?.type === 'Recreate') {
      for (const old of olds) scale(old, 0);
      const oldPods = olds.reduce((sum, each) => sum + Number(each.status?.replicas ?? 0), 0);
      if (oldPods === 0) newRs = scale(newRs, desired);
    } else {
      const maxSurge = this.maxSurge(deployment, desired);
      let maxUnavailable = intOrPercent(
        spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%',
        desired,
        false,
      );
      if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
      // Scale up the new ReplicaSet as far as the surge allows.
      const total = replicaSets.reduce((sum, each) => sum + specReplicas(each), 0);
      const room = desired + maxSurge - total;
      if (specReplicas(newRs) > desired) newRs = scale(newRs, desired);
      else if (room > 0 && specReplicas(newRs) < desired)
        newRs = scale(newRs, Math.min(desired, specReplicas(newRs) + room));
      // Scale old ReplicaSets down: unhealthy pods first, then as far as availability allows.
      const minAvailable = desired - maxUnavailable;
      const allPods = [newRs, ...olds].reduce((sum, each) => sum + specReplicas(each), 0);
      const newUnavailable = specReplicas(newRs) - available(newRs);
      let cleanup = allPods - minAvailable - newUnavailable;
      const sortedOlds = [...olds].sort((a, b) =>
        String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
      );
      for (let i = 0; i < sortedOlds.length && cleanup > 0; i++) {
        const old = sortedOlds[i]!;
        const unhealthy = specReplicas(old) - available(old);
        const cut = Math.min(unhealthy, cleanup);
        if (cut > 0) {
          sortedOlds[i] = scale(old, specReplicas(old) - cut);
          cleanup -= cut;
        }
      }
      const allAvailable = [newRs, ...sortedOlds].reduce((sum, each) => sum + available(each), 0);
      let canDown = allAvailable - minAvailable;
      for (let i = 0; i < sortedOlds.length && canDown > 0; i++) {
        const old = sortedOlds[i]!;
        const cut = Math.min(specReplicas(old), canDown);
        if (cut > 0) {
          sortedOlds[i] = scale(old, specReplicas(old) - cut);
          canDown -= cut;
        }
      }
    }
    this.cleanupHistory(deployment, hash);
    const fresh = owned(context, deployment, 'apps', 'ReplicaSet');
    this.writeStatus(
      deployment,
      fresh,
      fresh.find((each) => each.metadata.uid === newRs!.metadata.uid),
      progressReason,
      at,
    );
  }

  // A stored template is never mutated (every write stores a fresh copy), so its hash is
  // computed once per write rather than on every pass.
  private hashOf(template: KubeObject | undefined): string {
    if (!template) return templateHash(template);
    let hash = this.hashes.get(template);
    if (hash === undefined) this.hashes.set(template, (hash = templateHash(template)));
    return hash;
  }

  private maxSurge(deployment: KubeObject, desired: number): number {
    if (deployment.spec?.strategy?.type === 'Recreate') return 0;
    return intOrPercent(deployment.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
  }

  // Old ReplicaSets beyond revisionHistoryLimit go, oldest first, once empty.
  private cleanupHistory(deployment: KubeObject, hash: string): void {
    const limit = Number(deployment.spec?.revisionHistoryLimit ?? 10);
    const olds = owned(this.context, deployment, 'apps', 'ReplicaSet')
      .filter((each) => each.metadata.labels?.['pod-template-hash'] !== hash)
      .filter((each) => Number(each.spec?.replicas ?? 0) === 0 && Number(each.status?.replicas ?? 0) === 0)
      .sort(
        (a, b) =>
          Number(a.metadata.annotations?.[revisionAnnotation] ?? 0) -
          Number(b.metadata.annotations?.[revisionAnnotation] ?? 0),
      );
    for (const old of olds.slice(0, Math.max(0, olds.length - limit))) remove(this.context, old);
  }

  private writeStatus(
    deployment: KubeObject,
    replicaSets: KubeObject[],
    newRs: KubeObject | undefined,
    progressReason: { reason: string; message: string } | undefined,
    at = timestamp(new Date(this.context.now())),
  ): void {
    const context = this.context;
    const spec = deployment.spec ?? {};
    const desired = Number(spec.replicas ?? 1);
    const sum = (pick: (replicaSet: KubeObject) => number) =>
      replicaSets.reduce((total, each) => total + pick(each), 0);
    const replicas = sum((each) => Number(each.status?.replicas ?? 0));
    const updated = Number(newRs?.status?.replicas ?? 0);
    const ready = sum((each) => Number(each.status?.readyReplicas ?? 0));
    const availableReplicas = sum((each) => Number(each.status?.availableReplicas ?? 0));
    const totalSpec = sum((each) => Number(each.spec?.replicas ?? 0));
    const unavailable = Math.max(0, totalSpec - availableReplicas);
    const previous = (deployment.status?.conditions ?? []) as KubeObject[];
    const maxUnavailable =
      spec.strategy?.type === 'Recreate'
        ? 0
        : intOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    const availableCondition =
      availableReplicas >= desired - maxUnavailable
        ? condition(
            previous,
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            at,
            { lastUpdateTime: at },
          )
        : condition(
            previous,
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
            at,
            { lastUpdateTime: at },
          );
    const oldAvailable = previous.find((each) => each.type === 'Available');
    if (
      oldAvailable &&
      oldAvailable.status === availableCondition.status &&
      oldAvailable.reason === availableCondition.reason
    ) {
      availableCondition.lastUpdateTime = oldAvailable.lastUpdateTime;
    }

    const uid = deployment.metadata.uid;
    const now = context.now();
    const before = deployment.status ?? {};
    const complete =
      updated === desired &&
      replicas === desired &&
      availableReplicas === desired &&
      Number(newRs?.spec?.replicas ?? 0) === desired;
    const progressing = previous.find((each) => each.type === 'Progressing');
    const rsName = newRs?.metadata.name ?? '';
    let progressCondition = progressing;
    const madeProgress =
      updated > Number(before.updatedReplicas ?? 0) ||
      ready > Number(before.readyReplicas ?? 0) ||
      availableReplicas > Number(before.availableReplicas ?? 0) ||
      replicas - updated < Number(before.replicas ?? 0) - Number(before.updatedReplicas ?? 0);
    const generationChanged =
      Number(before.observedGeneration ?? 0) < Number(deployment.metadata.generation ?? 0);
    if (progressReason) {
      progressCondition = condition(
        previous,
        'Progressing',
        'True',
        progressReason.reason,
        progressReason.message,
        at,
        { lastUpdateTime: at },
      );
      this.lastProgress.set(uid, now);
    } else if (complete) {
      if (progressing?.reason !== 'NewReplicaSetAvailable') {
        progressCondition = condition(
          previous,
          'Progressing',
          'True',
          'NewReplicaSetAvailable',
          `ReplicaSet "${rsName}" has successfully progressed.`,
          at,
          { lastUpdateTime: at },
        );
        this.lastProgress.set(uid, now);
      }
    } else if (
      madeProgress ||
      generationChanged ||
      !progressing ||
      progressing.reason === 'NewReplicaSetAvailable'
    ) {
      progressCondition = condition(
        previous,
        'Progressing',
        'True',
        'ReplicaSetUpdated',
        `ReplicaSet "${rsName}" is progressing.`,
        at,
        { lastUpdateTime: at },
      );
      this.lastProgress.set(uid, now);
    }
    if (!complete && progressCondition && progressCondition.reason !== 'ProgressDeadlineExceeded') {
      const deadlineMs = Number(spec.progressDeadlineSeconds ?? 600) * 1000 * context.timeScale;
      const since = this.lastProgress.get(uid) ?? Date.parse(String(progressCondition.lastUpdateTime ?? at));
      if (now >= since + deadlineMs) {
        progressCondition = condition(
          previous,
          'Progressing',
          'False',
          'ProgressDeadlineExceeded',
          `ReplicaSet "${rsName}" has timed out progressing.`,
          at,
          { lastUpdateTime: at },
        );
        // The real controller records no event for this: the condition is the whole signal.
      } else context.wakeAt(since + deadlineMs, deployment);
    }
    const status: KubeObject = {
      observedGeneration: deployment.metadata.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas,
      ...(unavailable > 0 ? { unavailableReplicas: unavailable } : {}),
      conditions: [availableCondition, progressCondition].filter((each): each is KubeObject => !!each),
    };
    for (const key of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'])
      if (status[key] === 0) delete status[key];
    if (!deepEqual(status, deployment.status)) writeStatus(context, deployment, status);
  }
}

/** The pod-template-hash of a template (stable for equal templates). */
export function templateHash(template: unknown): string {
  const copy = clone(template ?? {}) as KubeObject;
  if (copy.metadata?.labels) delete copy.metadata.labels['pod-template-hash'];
  return safeHash(copy);
}
