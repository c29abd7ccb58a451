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

/**
 * The cluster's etcd: objects by type, namespace and name, one global resourceVersion
 * counter, and a bounded history of changes that watches resume from. A watch from a
 * version older than the history answers 410 Expired, as a compacted etcd does.
 */
export class ObjectStore {
  /** How many changes the history keeps; tests lower it to provoke 410 Expired. */
  historyLimit = 5000;
  private revision = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly changeListeners = new Set<(event: WatchEvent) => void>();

  /** The current resourceVersion (of the last change). */
  get resourceVersion(): number {
    return this.revision;
  }

  /** The object, as stored (callers must not mutate it), or undefined. */
  get(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(key)?.get(objectPath(namespace, name));
  }

  /** Every object of a type, in one namespace or all, ordered by namespace and name. */
  list(key: string, namespace?: string): KubeObject[] {
    const all = [...(this.objects.get(key)?.entries() ?? [])]
      .filter(([path]) => namespace === undefined || path.startsWith(`${namespace}/`))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return all.map(([, object]) => object);
  }

  /** Every storage key that holds objects. */
  keys(): string[] {
    return [...this.objects.keys()];
  }

  /** Stores an object (a copy), giving it the next resourceVersion; returns the stored copy. */
  put(key: string, object: KubeObject): KubeObject {
    const stored = clone(object);
    const path = objectPath(stored.metadata.namespace, stored.metadata.name);
    let byPath = this.objects.get(key);
    if (!byPath) this.objects.set(key, (byPath = new Map()));
    const previous = byPath.get(path);
    const type = previous ? 'MODIFIED' : 'ADDED';
    this.revision += 1;
    stored.metadata.resourceVersion = String(this.revision);
    byPath.set(path, stored);
    this.record({ type, key, object: stored, previous, resourceVersion: this.revision });
    return stored;
  }

  /** Removes an object; the DELETED event carries it at a new resourceVersion. */
  remove(key: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const byPath = this.objects.get(key);
    const path = objectPath(namespace, name);
    const existing = byPath?.get(path);
    if (!byPath || !existing) return undefined;
    byPath.delete(path);
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

function objectPath(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}
