import { timestamp, type KubeObject } from '../object';
import { condition, type ControllerContext } from './context';

/**
 * How long the namespace controller takes before it deletes a namespace's content: it
 * first discovers every resource the API serves (pkg/controller/namespace/deletion's
 * ServerPreferredNamespacedResources, a full discovery that takes about a second on AKS).
 * Not scaled: it is the time of a round of requests, not a duration the controller sets.
 * Clients rely on it without knowing: `kubectl delete -f` of a file that starts with its
 * Namespace deletes the objects inside it before the controller does.
 */
export const contentDeletionDelayMs = 1000;

/** The namespace finalizer the namespace controller removes once the namespace is empty. */
const kubernetesFinalizer = 'kubernetes';

/**
 * The namespace controller: for each namespace being deleted, deletes everything in it
 * (pods gracefully, through their kubelet), reports what remains in its conditions, and
 * once nothing does, removes its `kubernetes` finalizer, after which the namespace goes.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
 */
export class NamespaceController {
  // When each terminating namespace was first seen (ms).
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly context: ControllerContext) {}

  /** One pass over the namespaces being deleted. */
  reconcile(): void {
    const deleting = this.context.objects
      .beingDeleted()
      .filter((entry) => entry.key === '/namespaces')
      .map((entry) => entry.object);
    const live = new Set(deleting.map((each) => String(each.metadata.uid)));
    for (const uid of this.firstSeen.keys()) if (!live.has(uid)) this.firstSeen.delete(uid);
    for (const namespace of deleting) this.sync(namespace);
  }

  private sync(namespace: KubeObject): void {
    const { objects } = this.context;
    const now = this.context.now();
    const uid = String(namespace.metadata.uid);
    const seen = this.firstSeen.get(uid) ?? now;
    this.firstSeen.set(uid, seen);
    if (now < seen + contentDeletionDelayMs) {
      this.context.wakeAt(seen + contentDeletionDelayMs, namespace);
      return;
    }
    const name = String(namespace.metadata.name);
    const remaining = new Map<string, number>();
    const finalizing = new Map<string, number>();
    for (const key of objects.store.keys()) {
      const type = objects.types.byStorageKey(key);
      if (!type?.namespaced) continue;
      for (const object of objects.store.list(key, name)) {
        if (!object.metadata.deletionTimestamp) {
          objects.delete(type, name, object.metadata.name, { propagationPolicy: 'Background' });
        }
        const left = objects.store.get(key, name, object.metadata.name);
        if (!left) continue;
        const resource = type.group ? `${type.resource}.${type.group}` : type.resource;
        remaining.set(resource, (remaining.get(resource) ?? 0) + 1);
        for (const finalizer of (left.metadata.finalizers ?? []) as string[])
          finalizing.set(finalizer, (finalizing.get(finalizer) ?? 0) + 1);
      }
    }
    const namespaces = this.context.type('', 'Namespace');
    const current = objects.find(namespaces, undefined, name);
    if (!current) return;
    if (remaining.size === 0) {
      // Finalize: with no finalizer left the namespace is deleted.
      objects.update(namespaces, {
        ...current,
        spec: {
          ...current.spec,
          finalizers: ((current.spec?.finalizers ?? []) as string[]).filter(
            (each) => each !== kubernetesFinalizer,
          ),
        },
      });
      return;
    }
    // Worded as pkg/controller/namespace/deletion/status_condition_utils.go words them.
    const at = timestamp(new Date(now));
    const previous = (current.status?.conditions ?? []) as KubeObject[];
    const listed = (counts: Map<string, number>, unit: (name: string, count: number) => string): string =>
      [...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([each, count]) => unit(each, count))
        .join(', ');
    const conditions = [
      condition(
        previous,
        'NamespaceDeletionDiscoveryFailure',
        'False',
        'ResourcesDiscovered',
        'All resources successfully discovered',
        at,
      ),
      condition(
        previous,
        'NamespaceDeletionGroupVersionParsingFailure',
        'False',
        'ParsedGroupVersions',
        'All legacy kube types successfully parsed',
        at,
      ),
      condition(
        previous,
        'NamespaceDeletionContentFailure',
        'False',
        'ContentDeleted',
        'All content successfully deleted, may be waiting on finalization',
        at,
      ),
      condition(
        previous,
        'NamespaceContentRemaining',
        'True',
        'SomeResourcesRemain',
        `Some resources are remaining: ${listed(remaining, (resource, count) => `${resource} has ${count} resource instances`)}`,
        at,
      ),
      finalizing.size > 0
        ? condition(
            previous,
            'NamespaceFinalizersRemaining',
            'True',
            'SomeFinalizersRemain',
            `Some content in the namespace has finalizers remaining: ${listed(finalizing, (finalizer, count) => `${finalizer} in ${count} resource instances`)}`,
            at,
          )
        : condition(
            previous,
            'NamespaceFinalizersRemaining',
            'False',
            'ContentHasNoFinalizers',
            'All content-preserving finalizers finished',
            at,
          ),
    ];
    const status = { ...current.status, phase: 'Terminating', conditions };
    objects.update(namespaces, objects.prepareUpdate(namespaces, current, { ...current, status }, 'status'));
  }
}
