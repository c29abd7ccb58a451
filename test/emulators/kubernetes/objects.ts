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
import type { ObjectStore } from './store';

/** Options every write takes. */
export interface WriteOptions {
  /** `dryRun=All`: validate and answer, persist nothing. */
  readonly dryRun?: boolean;
}

/** How a delete treats what the object owns. */
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/**
 * The API server's object semantics over the store, shared by the REST layer and the
 * controllers: names and uids, generation, defaulting, namespace existence, status
 * kept apart from spec, and garbage collection of owned objects on delete.
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
    return withVersion(type, found);
  }

  /** The object, or undefined. */
  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.store.get(storageKey(type), scoped(type, namespace), name);
    return found ? withVersion(type, found) : undefined;
  }

  /** Every object of a type, in a namespace or all. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    return this.store
      .list(storageKey(type), scoped(type, namespace))
      .map((object) => withVersion(type, object));
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
      .map((entry) => withVersion(type, entry.object));
  }

  /** The objects of a type among those with these uids, by namespace and name. */
  withUids(type: ResourceType, uids: Iterable<string>): KubeObject[] {
    const key = storageKey(type);
    return this.store
      .withUids(uids)
      .filter((entry) => entry.key === key)
      .map((entry) => withVersion(type, entry.object));
  }

  /** The events about an object (by its uid). */
  eventsAbout(events: ResourceType, uid: string): KubeObject[] {
    return this.store.eventsAbout(uid).map((entry) => withVersion(events, entry.object));
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

  /** Stores a prepared object; 409 when the name is taken. */
  create(type: ResourceType, prepared: KubeObject, options: WriteOptions = {}): KubeObject {
    this.requireNamespace(type, prepared.metadata.namespace);
    if (this.store.get(storageKey(type), prepared.metadata.namespace, prepared.metadata.name)) {
      throw alreadyExists(type.resource, type.group, prepared.metadata.name);
    }
    if (options.dryRun) return withVersion(type, prepared);
    const stored = this.store.put(storageKey(type), prepared);
    if (type.kind === 'CustomResourceDefinition') this.refreshCrds();
    return withVersion(type, stored);
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

  /** Stores an update; with `expectedVersion`, 409 when someone wrote in between. */
  update(
    type: ResourceType,
    updated: KubeObject,
    options: WriteOptions & { expectedVersion?: string } = {},
  ): KubeObject {
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
      return withVersion(type, {
        ...updated,
        metadata: { ...updated.metadata, resourceVersion: current.metadata.resourceVersion },
      });
    if (
      deepEqual(
        { ...current, metadata: { ...current.metadata, resourceVersion: undefined } },
        { ...updated, metadata: { ...updated.metadata, resourceVersion: undefined } },
      )
    ) {
      // A write that changes nothing leaves the resourceVersion alone, as etcd does.
      return withVersion(type, current);
    }
    const stored = this.store.put(storageKey(type), updated);
    if (type.kind === 'CustomResourceDefinition') this.refreshCrds();
    return withVersion(type, stored);
  }

  /** Deletes an object and, unless orphaned, everything it owns. Returns the deleted object. */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: WriteOptions & { propagationPolicy?: PropagationPolicy } = {},
  ): KubeObject {
    const existing = this.get(type, namespace, name);
    if (options.dryRun) return existing;
    const policy = options.propagationPolicy ?? 'Background';
    if (type.kind === 'Namespace') this.emptyNamespace(name);
    const removed = this.store.remove(storageKey(type), scoped(type, namespace), name)!;
    this.collectDependents(existing.metadata.uid, policy);
    if (type.kind === 'CustomResourceDefinition') this.refreshCrds();
    return withVersion(type, removed);
  }

  /** Re-reads the stored CRDs into the type registry. */
  refreshCrds(): void {
    this.types.setCrds(this.store.list('apiextensions.k8s.io/customresourcedefinitions'));
  }

  private emptyNamespace(namespace: string): void {
    for (const key of this.store.keys()) {
      for (const object of this.store.list(key, namespace))
        this.store.remove(key, namespace, object.metadata.name);
    }
  }

  // The garbage collector's part: owned objects go with their owner, or lose the
  // reference when the owner is deleted with Orphan.
  private collectDependents(ownerUid: string, policy: PropagationPolicy): void {
    for (const { key, object } of this.store.dependents(ownerUid)) {
      const references: KubeObject[] = object.metadata.ownerReferences ?? [];
      if (policy === 'Orphan') {
        const orphaned = clone(object);
        orphaned.metadata.ownerReferences = references.filter((reference) => reference.uid !== ownerUid);
        if (orphaned.metadata.ownerReferences.length === 0) delete orphaned.metadata.ownerReferences;
        this.store.put(key, orphaned);
      } else if (this.store.get(key, object.metadata.namespace, object.metadata.name)) {
        this.store.remove(key, object.metadata.namespace, object.metadata.name);
        this.collectDependents(object.metadata.uid, 'Background');
      }
    }
  }
}

function scoped(type: ResourceType, namespace: string | undefined): string | undefined {
  return type.namespaced ? namespace : undefined;
}

/**
 * The object with the apiVersion of the type it was asked for through. A shallow copy:
 * stored objects are never mutated (every write stores a fresh copy), and the
 * controllers read thousands of them per second, so a deep copy here would dominate.
 */
function withVersion(type: ResourceType, object: KubeObject): KubeObject {
  return { ...object, apiVersion: groupVersion(type), kind: type.kind };
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
