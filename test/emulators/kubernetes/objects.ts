import { asServed, asStored } from './conversions';
import { applyDefaults } from './defaults';
import { storageKey, type TypeRegistry } from './discovery';
import {
  alreadyExists,
  ApiError,
  clone,
  deepEqual,
  isControlledBy,
  newUid,
  notFound,
  randomSuffix,
  timestamp,
  type KubeObject,
} from './object';
import { groupVersion, type ResourceType } from './resources';
import type { ObjectStore, StoredEntry } from './store';

/** Options every write takes. */
export interface WriteOptions {
  /** `dryRun=All`: validate and answer, persist nothing. */
  readonly dryRun?: boolean;
}

/** How a delete treats what the object owns. */
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/** What a delete takes (the API's DeleteOptions). */
export interface DeleteOptions extends WriteOptions {
  readonly propagationPolicy?: PropagationPolicy;
  /** For pods: seconds the containers get to stop; 0 removes the pod at once. */
  readonly gracePeriodSeconds?: number;
  /** The delete fails with 409 unless the object still has this uid and resourceVersion. */
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

/** A delete's outcome: the object, and whether it is gone or only marked (finalizers, grace). */
export interface Deleted {
  readonly object: KubeObject;
  readonly gone: boolean;
}

/** The garbage collector's finalizers (k8s.io/apimachinery metav1.FinalizerOrphanDependents, FinalizerDeleteDependents). */
export const orphanFinalizer = 'orphan';
export const foregroundFinalizer = 'foregroundDeletion';
/** The finalizer a CRD gets when deleted, held until its custom resources are gone (apiextensions.CustomResourceCleanupFinalizer). */
export const crdCleanupFinalizer = 'customresourcecleanup.apiextensions.k8s.io';

/**
 * The API server's object semantics over the store, shared by the REST layer and the
 * controllers: names and uids, generation, defaulting, namespace existence and lifecycle,
 * status kept apart from spec, conversion between served and stored versions, and
 * deletion as the registry does it: graceful for pods, held by finalizers, the owned
 * objects collected in the background or orphaned or deleted first (foreground).
 * https://kubernetes.io/docs/concepts/architecture/garbage-collection/
 */
export class ObjectService {
  constructor(
    readonly store: ObjectStore,
    readonly types: TypeRegistry,
  ) {}

  private clusterIps = 10;

  // Service IPs from AKS's default service CIDR (10.0.0.0/16), 10.0.0.10 being DNS.
  private nextClusterIp(): string {
    this.clusterIps += 1;
    return `10.0.${Math.floor(this.clusterIps / 250)}.${(this.clusterIps % 250) + 1}`;
  }

  /** The object, or 404. */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.store.get(storageKey(type), scoped(type, namespace), name);
    if (!found) throw notFound(type.resource, type.group, name);
    return asServed(type, found);
  }

  /** The object, or undefined. */
  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.store.get(storageKey(type), scoped(type, namespace), name);
    return found ? asServed(type, found) : undefined;
  }

  /** Every object of a type, in a namespace or all. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    return this.store.list(storageKey(type), scoped(type, namespace)).map((object) => asServed(type, object));
  }

  /**
   * The objects of a type that name `owner` as their controller, by name (the owner index:
   * what the real controllers get from their informers' indexers).
   */
  owned(type: ResourceType, owner: KubeObject): KubeObject[] {
    const key = storageKey(type);
    return this.store
      .dependents(owner.metadata.uid)
      .filter(
        (entry) =>
          entry.key === key &&
          (!type.namespaced || entry.object.metadata.namespace === owner.metadata.namespace) &&
          isControlledBy(entry.object, owner),
      )
      .map((entry) => asServed(type, entry.object));
  }

  /** The objects of a type among those with these uids, by namespace and name. */
  withUids(type: ResourceType, uids: Iterable<string>): KubeObject[] {
    const key = storageKey(type);
    return this.store
      .withUids(uids)
      .filter((entry) => entry.key === key)
      .map((entry) => asServed(type, entry.object));
  }

  /** The events about an object (by its uid). */
  eventsAbout(events: ResourceType, uid: string): KubeObject[] {
    return this.store.eventsAbout(uid).map((entry) => asServed(events, entry.object));
  }

  /** True when the namespace exists and is being deleted. */
  namespaceTerminating(namespace: string | undefined): boolean {
    if (!namespace) return false;
    return !!this.store.get('/namespaces', undefined, namespace)?.metadata.deletionTimestamp;
  }

  private crdTerminating(type: ResourceType): boolean {
    return this.store
      .list('apiextensions.k8s.io/customresourcedefinitions')
      .some(
        (crd) =>
          crd.spec?.group === type.group &&
          crd.spec?.names?.plural === type.resource &&
          crd.metadata.deletionTimestamp,
      );
  }

  /** The objects being deleted (a deletionTimestamp set), any type: what the garbage collector and namespace controller look at. */
  beingDeleted(): StoredEntry[] {
    return this.store.withUids(this.deleting);
  }

  /** 404 `namespaces "x" not found` unless the namespace exists. */
  requireNamespace(type: ResourceType, namespace: string | undefined): void {
    if (!type.namespaced) return;
    if (!namespace)
      throw new ApiError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    if (!this.store.get('/namespaces', undefined, namespace)) {
      throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
  }

  /** Fills in what the server sets on create (name from generateName, uid, timestamps, defaults). */
  prepareCreate(type: ResourceType, object: KubeObject, namespace: string | undefined): KubeObject {
    const created = clone(object);
    created.apiVersion = groupVersion(type);
    created.kind = type.kind;
    created.metadata ??= {};
    if (!created.metadata.name && created.metadata.generateName) {
      created.metadata.name = `${created.metadata.generateName}${randomSuffix()}`;
    }
    if (!created.metadata.name) {
      throw new ApiError(
        422,
        'Invalid',
        `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        {
          kind: type.kind,
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value: name or generateName is required',
              field: 'metadata.name',
            },
          ],
        },
      );
    }
    if (type.namespaced) created.metadata.namespace = namespace;
    else delete created.metadata.namespace;
    created.metadata.uid = newUid();
    created.metadata.creationTimestamp = timestamp();
    delete created.metadata.resourceVersion;
    if (hasGeneration(type, created)) created.metadata.generation = 1;
    if (type.subresources?.includes('status') && type.kind !== 'Namespace') delete created.status;
    if (type.kind === 'Job') jobSelector(created);
    if (
      type.kind === 'Service' &&
      created.spec &&
      created.spec.type !== 'ExternalName' &&
      !created.spec.clusterIP
    ) {
      created.spec.clusterIP = this.nextClusterIp();
      created.spec.clusterIPs = [created.spec.clusterIP];
    }
    if (type.kind === 'CustomResourceDefinition') created.status = crdStatus(created);
    applyDefaults(created);
    return created;
  }

  /**
   * Stores a prepared object; 409 when the name is taken, 403 in a namespace being
   * deleted, worded as the NamespaceLifecycle admission plugin words it
   * (k8s.io/apiserver pkg/admission/plugin/namespace/lifecycle).
   */
  create(type: ResourceType, prepared: KubeObject, options: WriteOptions = {}): KubeObject {
    const namespace = prepared.metadata.namespace;
    this.requireNamespace(type, namespace);
    if (type.custom && this.crdTerminating(type)) {
      throw new ApiError(
        405,
        'MethodNotAllowed',
        `create not allowed while custom resource definition is terminating`,
      );
    }
    if (type.namespaced && this.namespaceTerminating(namespace)) {
      const qualified = type.group ? `${type.resource}.${type.group}` : type.resource;
      throw new ApiError(
        403,
        'Forbidden',
        `${qualified} "${prepared.metadata.name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name: prepared.metadata.name,
          ...(type.group ? { group: type.group } : {}),
          kind: type.resource,
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
    }
    if (this.store.get(storageKey(type), namespace, prepared.metadata.name)) {
      throw alreadyExists(type.resource, type.group, prepared.metadata.name);
    }
    if (options.dryRun) return asServed(type, asStored(type, prepared));
    const stored = this.put(type, asStored(type, prepared));
    if (type.kind === 'CustomResourceDefinition') this.refreshCrds();
    return asServed(type, stored);
  }

  /**
   * Merges a write's result with what the server keeps: identity, and status (for a
   * spec write) or everything but status (for a status write); bumps generation when
   * the spec changed.
   */
  prepareUpdate(type: ResourceType, old: KubeObject, next: KubeObject, subresource?: string): KubeObject {
    const updated = clone(next);
    updated.apiVersion = groupVersion(type);
    updated.kind = type.kind;
    updated.metadata ??= {};
    for (const field of [
      'name',
      'namespace',
      'uid',
      'creationTimestamp',
      'generation',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
    ]) {
      if (old.metadata[field] === undefined) delete updated.metadata[field];
      else updated.metadata[field] = old.metadata[field];
    }
    const hasStatus = !!type.subresources?.includes('status');
    if (subresource === 'status') {
      for (const key of Object.keys(updated))
        if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) delete updated[key];
      for (const key of Object.keys(old))
        if (!['metadata', 'status'].includes(key)) updated[key] = clone(old[key]);
      updated.metadata = {
        ...clone(old.metadata),
        managedFields: updated.metadata.managedFields ?? old.metadata.managedFields,
      };
    } else {
      if (hasStatus) {
        if (old.status === undefined) delete updated.status;
        else updated.status = clone(old.status);
      }
      applyDefaults(updated);
      if (hasGeneration(type, updated) && !deepEqual(specOf(old), specOf(updated))) {
        updated.metadata.generation = (old.metadata.generation ?? 0) + 1;
      }
    }
    return updated;
  }

  /**
   * Stores an update; with `expectedVersion`, 409 when someone wrote in between. An
   * object being deleted whose last finalizer this update removes is deleted (a pod only
   * once its grace period was cut to 0, by its kubelet).
   */
  update(
    type: ResourceType,
    served: KubeObject,
    options: WriteOptions & { expectedVersion?: string } = {},
  ): KubeObject {
    const updated = asStored(type, served);
    const current = this.store.get(storageKey(type), updated.metadata.namespace, updated.metadata.name);
    if (!current) throw notFound(type.resource, type.group, updated.metadata.name);
    if (options.expectedVersion && options.expectedVersion !== current.metadata.resourceVersion) {
      const qualified = type.group ? `${type.resource}.${type.group}` : type.resource;
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified} "${updated.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: updated.metadata.name, ...(type.group ? { group: type.group } : {}), kind: type.resource },
      );
    }
    if (options.dryRun)
      return asServed(type, {
        ...updated,
        metadata: { ...updated.metadata, resourceVersion: current.metadata.resourceVersion },
      });
    if (deepEqual(comparable(current), comparable(updated))) {
      // A write that changes nothing leaves the resourceVersion alone, as etcd does; nor
      // does a managedFields time alone count (apimachinery's
      // IgnoreManagedFieldsTimestampsTransformer), so a repeated apply is a no-op.
      return asServed(type, current);
    }
    if (
      updated.metadata.deletionTimestamp &&
      (updated.metadata.finalizers ?? []).length === 0 &&
      !(type.kind === 'Namespace' && (updated.spec?.finalizers ?? []).length > 0) &&
      !(type.kind === 'Pod' && Number(updated.metadata.deletionGracePeriodSeconds ?? 0) > 0)
    ) {
      return asServed(type, this.removeNow(storageKey(type), updated));
    }
    const stored = this.put(type, updated);
    if (type.kind === 'CustomResourceDefinition') this.refreshCrds();
    return asServed(type, stored);
  }

  /**
   * Deletes an object as the registry does: a pod bound to a node is given its grace
   * period (its kubelet removes it), the Orphan and Foreground policies add the garbage
   * collector's finalizers, and an object with finalizers is only marked (deletionTimestamp)
   * until they are removed; anything else goes at once, its dependents collected in the
   * background. A namespace starts terminating: the namespace controller empties it.
   */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): Deleted {
    const existing = this.get(type, namespace, name);
    const preconditions = options.preconditions ?? {};
    if (preconditions.uid && preconditions.uid !== existing.metadata.uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
    if (
      preconditions.resourceVersion &&
      preconditions.resourceVersion !== existing.metadata.resourceVersion
    ) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`,
      );
    }
    const key = storageKey(type);
    const stored = this.store.get(key, scoped(type, namespace), name)!;
    const grace = type.kind === 'Pod' ? podGracePeriod(stored, options.gracePeriodSeconds) : 0;
    const finalizers = withPolicyFinalizers(stored.metadata.finalizers ?? [], options.propagationPolicy);
    const marked = clone(stored);
    if (stored.metadata.deletionTimestamp) {
      // Already going: a pod's grace period may only be shortened; finalizers may change policy.
      if (type.kind === 'Pod' && grace < Number(stored.metadata.deletionGracePeriodSeconds ?? 0)) {
        marked.metadata.deletionGracePeriodSeconds = grace;
      }
      if (options.propagationPolicy) marked.metadata.finalizers = finalizers;
    } else {
      marked.metadata.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000));
      if (type.kind === 'Pod') marked.metadata.deletionGracePeriodSeconds = grace;
      if (finalizers.length > 0) marked.metadata.finalizers = finalizers;
      else delete marked.metadata.finalizers;
      if (marked.metadata.generation !== undefined) marked.metadata.generation += 1;
      if (type.kind === 'Namespace') marked.status = { ...marked.status, phase: 'Terminating' };
      if (type.kind === 'CustomResourceDefinition') {
        // The CRD registry's Delete: its custom resources are deleted before it goes.
        marked.metadata.finalizers = [...(marked.metadata.finalizers ?? []), crdCleanupFinalizer];
        marked.status = {
          ...marked.status,
          conditions: [
            ...((marked.status?.conditions ?? []) as KubeObject[]).filter(
              (each) => each.type !== 'Terminating',
            ),
            {
              type: 'Terminating',
              status: 'True',
              lastTransitionTime: timestamp(),
              reason: 'InstanceDeletionInProgress',
              message: 'CustomResource deletion is in progress',
            },
          ],
        };
      }
    }
    const held =
      (marked.metadata.finalizers ?? []).length > 0 ||
      (type.kind === 'Namespace' && (marked.spec?.finalizers ?? []).length > 0) ||
      (type.kind === 'Pod' && Number(marked.metadata.deletionGracePeriodSeconds ?? 0) > 0);
    if (options.dryRun) return { object: asServed(type, held ? marked : stored), gone: !held };
    if (held) {
      if (deepEqual(marked, stored)) return { object: existing, gone: false };
      return { object: asServed(type, this.put(type, marked)), gone: false };
    }
    return { object: asServed(type, this.removeNow(key, stored)), gone: true };
  }

  /** Re-reads the stored CRDs into the type registry. */
  refreshCrds(): void {
    this.types.setCrds(this.store.list('apiextensions.k8s.io/customresourcedefinitions'));
  }

  // The uids of the objects with a deletionTimestamp, kept as they are written.
  private readonly deleting = new Set<string>();

  private put(type: ResourceType, object: KubeObject): KubeObject {
    const stored = this.store.put(storageKey(type), object);
    if (stored.metadata.deletionTimestamp) this.deleting.add(stored.metadata.uid);
    return stored;
  }

  // Removes an object from the store, then lets the garbage collector take what it owned.
  private removeNow(key: string, object: KubeObject): KubeObject {
    const removed = this.store.remove(key, object.metadata.namespace, object.metadata.name)!;
    this.deleting.delete(removed.metadata.uid);
    if (key === 'apiextensions.k8s.io/customresourcedefinitions') this.refreshCrds();
    this.collectDependents(removed.metadata.uid);
    return removed;
  }

  // The garbage collector's part once an owner is gone: a dependent that has no other
  // owner left is deleted (in the background, pods gracefully); one that has loses the
  // dangling reference.
  private collectDependents(ownerUid: string): void {
    for (const { key, object } of this.store.dependents(ownerUid)) {
      const type = this.types.byStorageKey(key);
      if (!type) continue;
      const references: KubeObject[] = object.metadata.ownerReferences ?? [];
      const others = references.filter(
        (reference) => reference.uid !== ownerUid && this.store.withUids([String(reference.uid)]).length > 0,
      );
      if (others.length === 0) {
        if (!object.metadata.deletionTimestamp)
          this.delete(type, object.metadata.namespace, object.metadata.name, {
            propagationPolicy: 'Background',
          });
        continue;
      }
      const kept = clone(object);
      kept.metadata.ownerReferences = references.filter((reference) => reference.uid !== ownerUid);
      this.put(type, kept);
    }
  }
}

// The grace a pod gets (the pod strategy's CheckGracefulDelete): the request's, else its
// spec's; none when it never reached a node or has finished.
function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  if (!pod.spec?.nodeName) return 0;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  const grace = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, Number(grace));
}

// The garbage collector's finalizers for a policy: Orphan and Foreground add theirs,
// Background takes both off (k8s.io/apiserver registry/generic/registry/store.go,
// deletionFinalizersForGarbageCollection); no policy leaves them as they are.
function withPolicyFinalizers(
  finalizers: readonly string[],
  policy: PropagationPolicy | undefined,
): string[] {
  if (!policy) return [...finalizers];
  const others = finalizers.filter((each) => each !== orphanFinalizer && each !== foregroundFinalizer);
  if (policy === 'Orphan') return [...others, orphanFinalizer];
  if (policy === 'Foreground') return [...others, foregroundFinalizer];
  return others;
}

function scoped(type: ResourceType, namespace: string | undefined): string | undefined {
  return type.namespaced ? namespace : undefined;
}

// An object as a write is compared with what is stored: without its resourceVersion and
// the times of its managedFields entries.
function comparable(object: KubeObject): KubeObject {
  const managedFields = (object.metadata.managedFields as KubeObject[] | undefined)?.map((entry) => ({
    ...entry,
    time: undefined,
  }));
  return { ...object, metadata: { ...object.metadata, resourceVersion: undefined, managedFields } };
}

function hasGeneration(type: ResourceType, object: KubeObject): boolean {
  return !!type.custom || object.spec !== undefined;
}

// What counts as "spec" for generation: everything but metadata and status.
function specOf(object: KubeObject): KubeObject {
  const rest = { ...object };
  delete rest.metadata;
  delete rest.status;
  delete rest.apiVersion;
  delete rest.kind;
  return rest;
}

// The Job controller's selector: the job's own uid, unless the user picked one.
function jobSelector(job: KubeObject): void {
  const spec = job.spec;
  if (!spec || spec.manualSelector) return;
  const uid = job.metadata.uid;
  const name = job.metadata.name;
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = {
    ...spec.template.metadata.labels,
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
}

// A CRD is accepted and established at once: there is no name clash to wait for here.
function crdStatus(crd: KubeObject): KubeObject {
  const now = timestamp();
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    acceptedNames: crd.spec?.names ?? {},
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    storedVersions: ((crd.spec?.versions ?? []) as KubeObject[])
      .filter((each) => each.storage)
      .map((each) => each.name),
  };
}
