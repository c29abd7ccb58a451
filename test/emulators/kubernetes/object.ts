import { createHash, randomUUID } from 'node:crypto';

/**
 * A Kubernetes object as JSON. The emulator stores every kind, custom ones included,
 * without a schema, so objects are open records; the controllers read the few fields
 * they act on through the helpers below.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- schemaless JSON, see above
export type KubeObject = Record<string, any>;

/** `metav1.Status` for a failed request, as every API server error body is. */
export interface StatusBody {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly details?: Record<string, unknown>;
  readonly code: number;
}

/** An API error the REST layer turns into a `Status` response. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The `Status` body the API server would send. */
  toStatus(): StatusBody {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `<resource>.<group> "<name>" not found`, worded as the API server words it. */
export function notFound(resource: string, group: string, name: string): ApiError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new ApiError(404, 'NotFound', `${qualified} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });
}

/** 409 AlreadyExists for a create of a name that is taken. */
export function alreadyExists(resource: string, group: string, name: string): ApiError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new ApiError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/**
 * A deep copy with JSON's semantics (undefined members dropped, undefined array items and
 * non-finite numbers as null, toJSON honoured), which is all a stored object ever holds.
 * Walked by hand: every write stores a copy, and a JSON round trip is several times slower.
 */
export function clone<T>(value: T): T {
  return value === undefined ? value : (copyJson(value) as T);
}

function copyJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'number' && !Number.isFinite(value) ? null : value;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return JSON.parse(JSON.stringify(value)) as unknown;
  }
  if (Array.isArray(value)) {
    return value.map((item: unknown) => (isJsonValue(item) ? copyJson(item) : null));
  }
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (!isJsonValue(child)) continue;
    // A `__proto__` member read from JSON is an own property, not the prototype.
    if (key === '__proto__')
      Object.defineProperty(copy, key, {
        value: copyJson(child),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else copy[key] = copyJson(child);
  }
  return copy;
}

function isJsonValue(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, index) => deepEqual(item, other[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  const otherKeys = Object.keys(right).filter((key) => right[key] !== undefined);
  return keys.length === otherKeys.length && keys.every((key) => deepEqual(left[key], right[key]));
}

/** RFC 3339 with second precision, the API server's timestamp format. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A fresh object uid. */
export function newUid(): string {
  return randomUUID();
}

// The alphabet Kubernetes uses for generated names and hashes (no vowels, no look-alikes).
const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** `n` random characters from the name-generation alphabet (the `-xxxxx` of generateName). */
export function randomSuffix(n = 5): string {
  let text = '';
  for (let i = 0; i < n; i++) text += safeAlphabet[Math.floor(Math.random() * safeAlphabet.length)];
  return text;
}

/**
 * A stable short hash of a JSON value, spelled like a pod-template-hash. Nulls and empty
 * maps or lists do not count, as in the typed objects the real controllers hash: a
 * template read back by a client (`creationTimestamp: null`, `resources: {}`) hashes
 * the same as the one stored.
 */
export function safeHash(value: unknown, length = 10): string {
  const digest = createHash('sha256')
    .update(stableJson(withoutEmpty(value)))
    .digest();
  let text = '';
  for (let i = 0; i < length; i++) text += safeAlphabet[digest[i]! % safeAlphabet.length];
  return text;
}

/** JSON with sorted keys, so equal objects hash equally. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** True when `owner` is the controller of `object` (an ownerReference with controller: true). */
export function isControlledBy(object: KubeObject, owner: KubeObject): boolean {
  const references: KubeObject[] = object.metadata?.ownerReferences ?? [];
  return references.some((reference) => reference.uid === owner.metadata.uid && reference.controller);
}

/** The ownerReference a controller puts on what it creates. */
export function controllerReference(owner: KubeObject): KubeObject {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(withoutEmpty).filter((item) => item !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([key, child]) => [key, withoutEmpty(child)] as const)
      .filter(([, child]) => child !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value === null ? undefined : value;
}
