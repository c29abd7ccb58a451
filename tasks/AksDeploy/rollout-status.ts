import { groupOf, isRecord, type KubeObject } from '../shared/kubernetes/object';

/**
 * Where one workload's rollout stands, judged from its live object alone by kubectl's own
 * rules (kubectl/pkg/polymorphichelpers/rollout_status.go for Deployments, StatefulSets
 * and DaemonSets; `kubectl wait --for=condition=Complete` for Jobs).
 */
export type RolloutState =
  | {
      readonly phase: 'progressing';
      readonly message: string;
      readonly ready: number;
      readonly desired: number;
    }
  | { readonly phase: 'done'; readonly message: string; readonly ready: number; readonly desired: number }
  | {
      readonly phase: 'failed';
      /** A short reason, e.g. ProgressDeadlineExceeded or BackoffLimitExceeded. */
      readonly reason: string;
      readonly message: string;
      readonly ready: number;
      readonly desired: number;
    };

type Json = Record<string, unknown>;

const num = (value: unknown, fallback = 0): number => (typeof value === 'number' ? value : fallback);
const rec = (value: unknown): Json => (isRecord(value) ? value : {});

/** Judges a workload's rollout from its live object; undefined for kinds with no rollout. */
export function rolloutState(object: KubeObject): RolloutState | undefined {
  const group = groupOf(object);
  if (group === 'apps' && object.kind === 'Deployment') return deploymentState(object);
  if (group === 'apps' && object.kind === 'StatefulSet') return statefulSetState(object);
  if (group === 'apps' && object.kind === 'DaemonSet') return daemonSetState(object);
  if (group === 'batch' && object.kind === 'Job') return jobState(object);
  return undefined;
}

function conditionOf(status: Json, type: string): Json | undefined {
  const conditions = Array.isArray(status.conditions) ? (status.conditions as unknown[]) : [];
  return conditions.map(rec).find((condition) => condition.type === type);
}

function observed(object: KubeObject, status: Json): boolean {
  return num(object.metadata.generation) <= num(status.observedGeneration);
}

function deploymentState(object: KubeObject): RolloutState {
  const spec = rec(object.spec);
  const status = rec(object.status);
  const desired = num(spec.replicas, 1);
  const updated = num(status.updatedReplicas);
  const available = num(status.availableReplicas);
  const ready = Math.min(updated, available);
  if (!observed(object, status)) {
    return {
      phase: 'progressing',
      message: 'waiting for the deployment spec update to be observed',
      ready,
      desired,
    };
  }
  const progressing = conditionOf(status, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      phase: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: `exceeded its progress deadline (${String(progressing.message ?? '')})`,
      ready,
      desired,
    };
  }
  if (updated < desired) {
    return { phase: 'progressing', message: `${updated} of ${desired} new replicas updated`, ready, desired };
  }
  const total = num(status.replicas);
  if (total > updated) {
    return {
      phase: 'progressing',
      message: `${total - updated} old replicas pending termination`,
      ready,
      desired,
    };
  }
  if (available < updated) {
    return {
      phase: 'progressing',
      message: `${available} of ${updated} updated replicas available`,
      ready,
      desired,
    };
  }
  return { phase: 'done', message: 'successfully rolled out', ready, desired };
}

function statefulSetState(object: KubeObject): RolloutState {
  const spec = rec(object.spec);
  const status = rec(object.status);
  const desired = num(spec.replicas, 1);
  const readyReplicas = num(status.readyReplicas);
  const strategy = rec(spec.updateStrategy);
  if (strategy.type !== undefined && strategy.type !== 'RollingUpdate') {
    // kubectl has no rollout status for OnDelete: pods change only when deleted.
    return {
      phase: 'done',
      message: `update strategy ${String(strategy.type)}: not waited on`,
      ready: readyReplicas,
      desired,
    };
  }
  if (num(status.observedGeneration) === 0 || !observed(object, status)) {
    return {
      phase: 'progressing',
      message: 'waiting for the statefulset spec update to be observed',
      ready: readyReplicas,
      desired,
    };
  }
  if (readyReplicas < desired) {
    return {
      phase: 'progressing',
      message: `${readyReplicas} of ${desired} pods ready`,
      ready: readyReplicas,
      desired,
    };
  }
  const partition = num(rec(strategy.rollingUpdate).partition);
  const updated = num(status.updatedReplicas);
  if (partition > 0) {
    const expected = desired - partition;
    if (updated < expected) {
      return {
        phase: 'progressing',
        message: `partitioned roll out: ${updated} of ${expected} new pods updated`,
        ready: readyReplicas,
        desired,
      };
    }
    return {
      phase: 'done',
      message: `partitioned roll out complete: ${updated} new pods updated`,
      ready: readyReplicas,
      desired,
    };
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      phase: 'progressing',
      message: `${updated} of ${desired} pods at revision ${String(status.updateRevision)}`,
      ready: Math.min(updated, readyReplicas),
      desired,
    };
  }
  return {
    phase: 'done',
    message: `rolling update complete: ${desired} pods at revision ${String(status.currentRevision)}`,
    ready: readyReplicas,
    desired,
  };
}

function daemonSetState(object: KubeObject): RolloutState {
  const spec = rec(object.spec);
  const status = rec(object.status);
  const desired = num(status.desiredNumberScheduled);
  const available = num(status.numberAvailable);
  const strategy = rec(spec.updateStrategy);
  if (strategy.type !== undefined && strategy.type !== 'RollingUpdate') {
    return {
      phase: 'done',
      message: `update strategy ${String(strategy.type)}: not waited on`,
      ready: available,
      desired,
    };
  }
  if (!observed(object, status)) {
    return {
      phase: 'progressing',
      message: 'waiting for the daemon set spec update to be observed',
      ready: available,
      desired,
    };
  }
  const updated = num(status.updatedNumberScheduled);
  if (updated < desired) {
    return {
      phase: 'progressing',
      message: `${updated} of ${desired} updated pods scheduled`,
      ready: Math.min(updated, available),
      desired,
    };
  }
  if (available < desired) {
    return {
      phase: 'progressing',
      message: `${available} of ${desired} updated pods available`,
      ready: available,
      desired,
    };
  }
  return { phase: 'done', message: 'successfully rolled out', ready: available, desired };
}

function jobState(object: KubeObject): RolloutState {
  const spec = rec(object.spec);
  const status = rec(object.status);
  const desired = num(spec.completions, 1);
  const succeeded = num(status.succeeded);
  const failed = conditionOf(status, 'Failed');
  if (failed?.status === 'True') {
    return {
      phase: 'failed',
      reason: String(failed.reason ?? 'Failed'),
      message: String(failed.message ?? 'the job failed'),
      ready: succeeded,
      desired,
    };
  }
  if (conditionOf(status, 'Complete')?.status === 'True') {
    return { phase: 'done', message: 'completed', ready: succeeded, desired };
  }
  return {
    phase: 'progressing',
    message: `${succeeded} of ${desired} completions`,
    ready: succeeded,
    desired,
  };
}
