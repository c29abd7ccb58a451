import { groupOf, isRecord, type KubeObject } from '../shared/kubernetes/object';

/** The workload kinds whose rollout the task waits on. */
export const waitableKinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'] as const;
/** A kind whose rollout the task waits on. */
export type WaitableKind = (typeof waitableKinds)[number];

// Where each workload kind keeps its pod template, as a path of fields from the object.
const podTemplatePaths: Readonly<Record<string, readonly string[]>> = {
  'apps/Deployment': ['spec', 'template'],
  'apps/StatefulSet': ['spec', 'template'],
  'apps/DaemonSet': ['spec', 'template'],
  'apps/ReplicaSet': ['spec', 'template'],
  'batch/Job': ['spec', 'template'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template'],
  '/ReplicationController': ['spec', 'template'],
};

/** The pod template (`{ metadata, spec }`) of a workload, or undefined for other kinds; the live object, not a copy. */
export function podTemplateOf(object: KubeObject): Record<string, unknown> | undefined {
  const path = podTemplatePaths[`${groupOf(object)}/${object.kind}`];
  if (!path) return undefined;
  let node: unknown = object;
  for (const field of path) {
    if (!isRecord(node)) return undefined;
    node = node[field];
  }
  return isRecord(node) ? node : undefined;
}

/** The pod spec of a workload or a bare Pod, or undefined; the live object, not a copy. */
export function podSpecOf(object: KubeObject): Record<string, unknown> | undefined {
  if (groupOf(object) === '' && object.kind === 'Pod') return isRecord(object.spec) ? object.spec : undefined;
  const template = podTemplateOf(object);
  return template && isRecord(template.spec) ? template.spec : undefined;
}

/** Whether the task waits on this object's rollout. */
export function isWaitable(object: KubeObject): boolean {
  const group = groupOf(object);
  return (
    (group === 'apps' && ['Deployment', 'StatefulSet', 'DaemonSet'].includes(object.kind)) ||
    (group === 'batch' && object.kind === 'Job')
  );
}
