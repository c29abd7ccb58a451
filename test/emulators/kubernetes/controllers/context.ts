import { randomBytes } from 'node:crypto';
import { clone, controllerReference, deepEqual, randomSuffix, timestamp, type KubeObject } from '../object';
import type { ObjectService } from '../objects';
import type { ResourceType } from '../resources';

/** What every simulated controller works with. */
export interface ControllerContext {
  readonly objects: ObjectService;
  /** Multiplies the controllers' own durations (backoffs, progress deadlines); tests shrink it. */
  readonly timeScale: number;
  /** The built-in type of a kind, e.g. `type('apps', 'Deployment')`. */
  type(group: string, kind: string): ResourceType;
  /** Milliseconds since the epoch (one place, so tests could move time). */
  now(): number;
  /** Asks for another reconcile of `object` (and its owners) at an absolute time. */
  wakeAt(time: number, object: KubeObject): void;
  /** Asks for another reconcile of `object` (and its owners) as soon as possible. */
  wake(object: KubeObject): void;
  /**
   * The uids this pass must look at (objects that changed, or own something that did,
   * or whose timer came due), or undefined when the pass covers every object.
   */
  dueUids(): ReadonlySet<string> | undefined;
  /** When a pod last became ready (ms), as its kubelet knows it; undefined when not ready. */
  readySince(pod: KubeObject): number | undefined;
}

/** Every object of a kind, across namespaces. */
export function listKind(
  context: ControllerContext,
  group: string,
  kind: string,
  namespace?: string,
): KubeObject[] {
  return context.objects.list(context.type(group, kind), namespace);
}

/**
 * The objects of a kind this pass must look at (see ControllerContext.dueUids), across
 * namespaces. Those being deleted, or in a namespace being deleted, are left out unless
 * asked for: a controller stops managing an owner that is going (the ReplicaSet
 * controller's `rs.DeletionTimestamp == nil` check), and nothing new can be created there.
 */
export function listDue(
  context: ControllerContext,
  group: string,
  kind: string,
  { includeDeleting = false }: { includeDeleting?: boolean } = {},
): KubeObject[] {
  const uids = context.dueUids();
  const type = context.type(group, kind);
  const due = uids ? context.objects.withUids(type, uids) : context.objects.list(type);
  if (includeDeleting) return due;
  return due.filter(
    (object) =>
      !object.metadata.deletionTimestamp && !context.objects.namespaceTerminating(object.metadata.namespace),
  );
}

/** The objects of a kind that `owner` controls. */
export function owned(
  context: ControllerContext,
  owner: KubeObject,
  group: string,
  kind: string,
): KubeObject[] {
  return context.objects.owned(context.type(group, kind), owner);
}

/** Creates an object a controller owns (a generated name unless given). */
export function createOwned(
  context: ControllerContext,
  owner: KubeObject,
  group: string,
  kind: string,
  object: KubeObject,
): KubeObject {
  const type = context.type(group, kind);
  const body = clone(object);
  body.metadata ??= {};
  body.metadata.namespace = owner.metadata.namespace;
  body.metadata.ownerReferences = [controllerReference(owner)];
  if (!body.metadata.name)
    body.metadata.name = `${body.metadata.generateName ?? `${owner.metadata.name}-`}${randomSuffix()}`;
  return context.objects.create(type, context.objects.prepareCreate(type, body, owner.metadata.namespace));
}

/** Replaces an object's status when it differs; returns the stored object. */
export function writeStatus(context: ControllerContext, object: KubeObject, status: KubeObject): KubeObject {
  if (deepEqual(object.status, status)) return object;
  const type = context.type(groupOf(object), object.kind);
  return context.objects.update(type, { ...object, status });
}

/** Writes an object's spec or metadata (not status) when changed. */
export function writeObject(context: ControllerContext, before: KubeObject, after: KubeObject): KubeObject {
  if (deepEqual(before, after)) return before;
  const type = context.type(groupOf(after), after.kind);
  return context.objects.update(type, context.objects.prepareUpdate(type, before, after));
}

/** Deletes an object as a controller does (a pod gracefully; its dependents in the background). */
export function remove(context: ControllerContext, object: KubeObject): void {
  const type = context.type(groupOf(object), object.kind);
  if (context.objects.find(type, object.metadata.namespace, object.metadata.name)) {
    context.objects.delete(type, object.metadata.namespace, object.metadata.name);
  }
}

/** The API group of an object, from its apiVersion. */
export function groupOf(object: KubeObject): string {
  const apiVersion = String(object.apiVersion ?? 'v1');
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

/**
 * Records a core/v1 Event about `involved`; a repeat of the same reason and message
 * bumps `count` and `lastTimestamp`, as the event recorder's aggregation does.
 */
export function recordEvent(
  context: ControllerContext,
  involved: KubeObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component: string,
  fieldPath?: string,
): void {
  const events = context.type('', 'Event');
  const namespace = involved.metadata.namespace ?? 'default';
  // The recorder's create is refused in a namespace being deleted; it drops the event.
  if (context.objects.namespaceTerminating(namespace)) return;
  const now = timestamp(new Date(context.now()));
  const existing = context.objects
    .eventsAbout(events, involved.metadata.uid)
    .find(
      (event) =>
        event.metadata.namespace === namespace && event.reason === reason && event.message === message,
    );
  if (existing) {
    context.objects.update(events, { ...existing, count: (existing.count ?? 1) + 1, lastTimestamp: now });
    return;
  }
  const event: KubeObject = {
    metadata: { name: `${involved.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
    involvedObject: {
      kind: involved.kind,
      namespace: involved.metadata.namespace,
      name: involved.metadata.name,
      uid: involved.metadata.uid,
      apiVersion: involved.apiVersion,
      resourceVersion: involved.metadata.resourceVersion,
      ...(fieldPath ? { fieldPath } : {}),
    },
    reason,
    message,
    source: { component },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: component,
    reportingInstance: '',
  };
  context.objects.create(events, context.objects.prepareCreate(events, event, namespace));
}

/** True when a pod's Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  return ((pod.status?.conditions ?? []) as KubeObject[]).some(
    (each) => each.type === 'Ready' && each.status === 'True',
  );
}

/** True for a pod being deleted (its containers stopping). */
export function isPodTerminating(pod: KubeObject): boolean {
  return !!pod.metadata.deletionTimestamp;
}

/** True for a pod that has finished (Succeeded or Failed). */
export function isPodTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** A condition entry; `lastTransitionTime` kept from `previous` when the status did not change. */
export function condition(
  previous: KubeObject[] | undefined,
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
  now: string,
  extra: KubeObject = {},
): KubeObject {
  const before = previous?.find((each) => each.type === type);
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : now;
  return { type, status, ...extra, lastTransitionTime, reason, message };
}

/** A pod built from a template for an owner. */
export function podFromTemplate(
  template: KubeObject,
  extraLabels: Record<string, string>,
  name?: string,
): KubeObject {
  const metadata = clone(template.metadata ?? {});
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(name ? { name } : {}),
      labels: { ...(metadata.labels ?? {}), ...extraLabels },
      ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
    },
    spec: clone(template.spec ?? {}),
  };
}

/** Resolves an int-or-percent (maxSurge, maxUnavailable) against a total. */
export function intOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(String(value ?? '0'));
  if (!match) return Number(value) || 0;
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * How many pods are available: ready for at least `minReadySeconds` (scaled like the
 * controllers' other durations). Wakes the controllers when the next one will be.
 */
export function countAvailable(
  context: ControllerContext,
  pods: readonly KubeObject[],
  minReadySeconds: unknown,
): number {
  const wait = Number(minReadySeconds ?? 0) * 1000 * context.timeScale;
  const now = context.now();
  let available = 0;
  for (const pod of pods) {
    if (!isPodReady(pod)) continue;
    const since = context.readySince(pod) ?? Date.parse(readyCondition(pod)?.lastTransitionTime ?? '');
    if (wait <= 0 || !Number.isFinite(since) || now >= since + wait) available += 1;
    else context.wakeAt(since + wait, pod);
  }
  return available;
}

function readyCondition(pod: KubeObject): KubeObject | undefined {
  return ((pod.status?.conditions ?? []) as KubeObject[]).find((each) => each.type === 'Ready');
}
