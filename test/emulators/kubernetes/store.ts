import { ApiError, clone, type KubeObject } from './object';

/** A change as a watch reports it. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The storage key of the object's type (`group/resource`). */
  readonly key: string;
  readonly object: KubeObject;
  /** For MODIFIED: the object as it was, so a filtered watch can tell it left or entered the filter. */
  readonly previous?: KubeObject;
  readonly resourceVersion: number;
}

/** What a watch asks for: one type, optionally one namespace, changes after a version. */
export interface WatchQuery {
  readonly key: string;
  readonly namespace?: string;
}

interface Watcher {
  readonly query: WatchQuery;
  readonly deliver: (event: WatchEvent) => void;
}

/** One stored object with the storage key of its type, as the secondary indexes return them. */
export interface StoredEntry {
  readonly key: string;
  readonly object: KubeObject;
}

// The objects of one type in one namespace ('' for cluster-scoped ones), with their names
// kept sorted between inserts and deletes, so that a list is a walk, not a sort.
interface Bucket {
  readonly byName: Map<string, KubeObject>;
  sortedNames?: string[];
}

/**
 * The cluster's etcd: objects by type, namespace and name, one global resourceVersion
 * counter, and a bounded history of changes that watches resume from. A watch from a
 * version older than the history answers 410 Expired, as a compacted etcd does.
 *
 * Secondary indexes stand in for the informers' indexers of the real controllers: objects
 * by uid, by the uid of each of their owners, and events by the uid of the object they are
 * about. They let a controller read what it needs without walking the whole store.
 */
export class ObjectStore {
  /** How many changes the history keeps; tests lower it to provoke 410 Expired. */
  historyLimit = 5000;
  private revision = 1;
  private readonly objects = new Map<string, Map<string, Bucket>>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly bySubject = new Map<string, Set<string>>();
  private readonly byUid = new Map<string, string>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly changeListeners = new Set<(event: WatchEvent) => void>();

  /** The current resourceVersion (of the last change). */
  get resourceVersion(): number {
    return this.revision;
  }

  /** The object, as stored (callers must not mutate it), or undefined. */
  get(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects
      .get(key)
      ?.get(namespace ?? '')
      ?.byName.get(name);
  }

  /** Every object of a type, in one namespace or all, ordered by namespace and name. */
  list(key: string, namespace?: string): KubeObject[] {
    const buckets = this.objects.get(key);
    if (!buckets) return [];
    if (namespace !== undefined) {
      const bucket = buckets.get(namespace);
      return bucket ? sortedObjects(bucket) : [];
    }
    // Ordered as the paths `<namespace>/<name>` sort, namespace first.
    const namespaces = [...buckets.keys()].sort((a, b) => compare(`${a}/`, `${b}/`));
    return namespaces.flatMap((each) => sortedObjects(buckets.get(each)!));
  }

  /** Every storage key that holds objects. */
  keys(): string[] {
    return [...this.objects.keys()];
  }

  /** The objects that name `uid` among their ownerReferences, any type, ordered by namespace and name. */
  dependents(uid: string): StoredEntry[] {
    return this.entries(this.byOwner.get(uid));
  }

  /** The events (`involvedObject.uid`) about the object with `uid`. */
  eventsAbout(uid: string): StoredEntry[] {
    return this.entries(this.bySubject.get(uid));
  }

  /** The objects with these uids (those still stored), any type, ordered by type, namespace and name. */
  withUids(uids: Iterable<string>): StoredEntry[] {
    const references = new Set<string>();
    for (const uid of uids) {
      const reference = this.byUid.get(uid);
      if (reference) references.add(reference);
    }
    return this.entries(references);
  }

  /** Stores an object (a copy), giving it the next resourceVersion; returns the stored copy. */
  put(key: string, object: KubeObject): KubeObject {
    const stored = clone(object);
    const namespace = stored.metadata.namespace ?? '';
    const name: string = stored.metadata.name;
    let buckets = this.objects.get(key);
    if (!buckets) this.objects.set(key, (buckets = new Map()));
    let bucket = buckets.get(namespace);
    if (!bucket) buckets.set(namespace, (bucket = { byName: new Map() }));
    const previous = bucket.byName.get(name);
    const type = previous ? 'MODIFIED' : 'ADDED';
    this.revision += 1;
    stored.metadata.resourceVersion = String(this.revision);
    bucket.byName.set(name, stored);
    if (!previous) bucket.sortedNames = undefined;
    this.reindex(key, previous, stored);
    this.record({ type, key, object: stored, previous, resourceVersion: this.revision });
    return stored;
  }

  /** Removes an object; the DELETED event carries it at a new resourceVersion. */
  remove(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const buckets = this.objects.get(key);
    const bucket = buckets?.get(namespace ?? '');
    const existing = bucket?.byName.get(name);
    if (!buckets || !bucket || !existing) return undefined;
    bucket.byName.delete(name);
    bucket.sortedNames = undefined;
    if (bucket.byName.size === 0) buckets.delete(namespace ?? '');
    if (buckets.size === 0) this.objects.delete(key);
    this.reindex(key, existing, undefined);
    this.revision += 1;
    const gone = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(this.revision) } };
    this.record({ type: 'DELETED', key, object: gone, resourceVersion: this.revision });
    return gone;
  }

  /** Calls `listener` after every change (the controllers' trigger). */
  onChange(listener: (event: WatchEvent) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Forgets the whole history, so any watch from an older version gets 410. */
  compact(): void {
    this.history.length = 0;
  }

  /**
   * Changes after `fromVersion` for `query`, then live ones until `signal` aborts.
   * Throws 410 Expired when the history no longer reaches back to `fromVersion`.
   */
  watch(query: WatchQuery, fromVersion: number, signal: AbortSignal): AsyncIterable<WatchEvent> {
    const oldest = this.history[0]?.resourceVersion ?? this.revision + 1;
    if (fromVersion < oldest - 1 && fromVersion < this.revision) {
      throw new ApiError(410, 'Expired', `too old resource version: ${fromVersion} (${oldest - 1})`);
    }
    const queue: WatchEvent[] = this.history.filter(
      (event) => event.resourceVersion > fromVersion && matches(query, event),
    );
    let wake: (() => void) | undefined;
    const watcher: Watcher = {
      query,
      deliver: (event) => {
        queue.push(event);
        wake?.();
      },
    };
    this.watchers.add(watcher);
    const onAbort = (): void => wake?.();
    signal.addEventListener('abort', onAbort);
    const watchers = this.watchers;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          while (!signal.aborted) {
            const next = queue.shift();
            if (next) {
              yield next;
              continue;
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        } finally {
          watchers.delete(watcher);
          signal.removeEventListener('abort', onAbort);
        }
      },
    };
  }

  private entries(references: ReadonlySet<string> | undefined): StoredEntry[] {
    const found: StoredEntry[] = [];
    for (const reference of [...(references ?? [])].sort()) {
      const [key, namespace, name] = reference.split('\u0000') as [string, string, string];
      const object = this.get(key, namespace, name);
      if (object) found.push({ key, object });
    }
    return found;
  }

  // Keeps the uid, owner and event indexes in step with one object's change.
  private reindex(key: string, before: KubeObject | undefined, after: KubeObject | undefined): void {
    const object = (after ?? before)!;
    const entry = [key, object.metadata.namespace ?? '', object.metadata.name].join('\u0000');
    const update = (index: Map<string, Set<string>>, uids: (object: KubeObject) => string[]): void => {
      const old = before ? uids(before) : [];
      const next = after ? uids(after) : [];
      for (const uid of old) {
        if (next.includes(uid)) continue;
        const set = index.get(uid);
        set?.delete(entry);
        if (set?.size === 0) index.delete(uid);
      }
      for (const uid of next) {
        if (old.includes(uid)) continue;
        let set = index.get(uid);
        if (!set) index.set(uid, (set = new Set()));
        set.add(entry);
      }
    };
    if (!after) this.byUid.delete(object.metadata.uid);
    else if (!before) this.byUid.set(object.metadata.uid, entry);
    update(this.byOwner, ownerUids);
    if (key === eventsKey) update(this.bySubject, subjectUids);
  }

  private record(event: WatchEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit)
      this.history.splice(0, this.history.length - this.historyLimit);
    for (const watcher of this.watchers) if (matches(watcher.query, event)) watcher.deliver(event);
    for (const listener of this.changeListeners) listener(event);
  }
}

function matches(query: WatchQuery, event: WatchEvent): boolean {
  return (
    event.key === query.key &&
    (query.namespace === undefined || event.object.metadata.namespace === query.namespace)
  );
}

// Where core/v1 Events are stored (see storageKey).
const eventsKey = '/events';

function ownerUids(object: KubeObject): string[] {
  const references: KubeObject[] = object.metadata.ownerReferences ?? [];
  return references.map((reference) => String(reference.uid));
}

function subjectUids(event: KubeObject): string[] {
  const uid = event.involvedObject?.uid;
  return uid ? [String(uid)] : [];
}

function sortedObjects(bucket: Bucket): KubeObject[] {
  bucket.sortedNames ??= [...bucket.byName.keys()].sort(compare);
  return bucket.sortedNames.map((name) => bucket.byName.get(name)!);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
