import { deepEqual, type KubeObject } from './object';

/**
 * Field sets in the API server's structured-merge-diff terms: a path is a list of
 * elements (`f:<field>`, `k:<key json>` for an item of a keyed list, `.` for the
 * item itself), and a set of paths serialises to managedFields' `fieldsV1`.
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
 */
export type FieldPath = readonly string[];

/** Paths as strings (elements joined by NUL), so a Set can hold them. */
export type FieldSet = Set<string>;

const separator = '\u0000';

// Lists merged by key rather than replaced whole (x-kubernetes-list-type: map in the
// built-in OpenAPI), by field name; every other list is atomic.
const listMapKeys: Readonly<Record<string, readonly string[]>> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  imagePullSecrets: ['name'],
  conditions: ['type'],
  hostAliases: ['ip'],
  ownerReferences: ['uid'],
  topologySpreadConstraints: ['topologyKey', 'whenUnsatisfiable'],
  versions: ['name'],
};

/** The key fields of a keyed list named `field`, or undefined when the list is atomic. */
export function listKeys(field: string, item: unknown): readonly string[] | undefined {
  if (!isRecord(item)) return undefined;
  if (field === 'ports') {
    if ('containerPort' in item) return ['containerPort', 'protocol'];
    if ('port' in item) return ['port', 'protocol'];
    return undefined;
  }
  const keys = listMapKeys[field];
  return keys && keys.every((key) => key in item) ? keys : undefined;
}

function keyOf(
  field: string,
  keys: readonly string[],
  item: Record<string, unknown>,
): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const name of [...keys].sort()) {
    // Protocol is defaulted before the key is taken, so an item without one keys as TCP.
    key[name] = item[name] ?? (name === 'protocol' && field === 'ports' ? 'TCP' : undefined);
  }
  return key;
}

/** Whether an item of a keyed list has the given key. */
function hasKey(field: string, item: unknown, key: Record<string, unknown>): boolean {
  if (!isRecord(item)) return false;
  const keys = listKeys(field, item);
  return !!keys && deepEqual(keyOf(field, keys, item), key);
}

/** Top-level and metadata fields nobody owns (identity and server-set bookkeeping). */
const unownedMetadata = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'generateName',
]);

/**
 * The fields an object sets: every leaf, every keyed-list item (as its `.` path), with
 * apiVersion, kind, identity metadata and (unless `includeStatus`) status left out.
 */
export function fieldSetOf(object: KubeObject, includeStatus = false): FieldSet {
  const out: FieldSet = new Set();
  for (const [name, value] of Object.entries(object)) {
    if (value === undefined || name === 'apiVersion' || name === 'kind') continue;
    if (name === 'status' && !includeStatus) continue;
    if (name === 'metadata' && isRecord(value)) {
      for (const [field, child] of Object.entries(value)) {
        if (child === undefined || unownedMetadata.has(field)) continue;
        collect(child, ['f:metadata', `f:${field}`], field, out);
      }
      continue;
    }
    collect(value, [`f:${name}`], name, out);
  }
  return out;
}

function collect(value: unknown, path: string[], field: string, out: FieldSet): void {
  if (isRecord(value) && Object.keys(value).length > 0) {
    for (const [name, child] of Object.entries(value)) {
      if (child !== undefined) collect(child, [...path, `f:${name}`], name, out);
    }
    return;
  }
  if (Array.isArray(value) && value.length > 0 && value.every((item) => listKeys(field, item))) {
    for (const item of value as Record<string, unknown>[]) {
      const element = `k:${JSON.stringify(keyOf(field, listKeys(field, item)!, item))}`;
      out.add([...path, element, '.'].join(separator));
      for (const [name, child] of Object.entries(item)) {
        if (child !== undefined) collect(child, [...path, element, `f:${name}`], name, out);
      }
    }
    return;
  }
  out.add(path.join(separator));
}

/** The value at a path, or undefined when any step is missing. */
export function valueAt(object: unknown, path: FieldPath): unknown {
  let current: unknown = object;
  let field = '';
  for (const element of path) {
    if (element === '.') return current;
    if (element.startsWith('f:')) {
      field = element.slice(2);
      if (!isRecord(current)) return undefined;
      current = current[field];
    } else if (element.startsWith('k:')) {
      if (!Array.isArray(current)) return undefined;
      const key = JSON.parse(element.slice(2)) as Record<string, unknown>;
      current = current.find((item) => hasKey(field, item, key));
    } else return undefined;
  }
  return current;
}

/** Removes the value (or list item, for a `.` path) at a path; missing steps are fine. */
export function removeAt(object: KubeObject, path: FieldPath): void {
  const itemPath = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  const last = itemPath[itemPath.length - 1];
  if (!last) return;
  const parent = valueAt(object, itemPath.slice(0, -1));
  if (last.startsWith('f:') && isRecord(parent)) {
    delete parent[last.slice(2)];
  } else if (last.startsWith('k:') && Array.isArray(parent)) {
    const field =
      [...itemPath]
        .reverse()
        .find((element) => element.startsWith('f:'))
        ?.slice(2) ?? '';
    const key = JSON.parse(last.slice(2)) as Record<string, unknown>;
    const index = parent.findIndex((item) => hasKey(field, item, key));
    if (index >= 0) parent.splice(index, 1);
  }
}

/** Merges `config` into `live` as apply does: maps and keyed lists recursively, the rest replaced. */
export function mergeApplied(live: unknown, config: unknown, field = ''): unknown {
  if (isRecord(live) && isRecord(config)) {
    const result: Record<string, unknown> = { ...live };
    for (const [name, value] of Object.entries(config)) {
      if (value === undefined) continue;
      result[name] = mergeApplied(live[name], value, name);
    }
    return result;
  }
  if (
    Array.isArray(live) &&
    Array.isArray(config) &&
    config.every((item) => listKeys(field, item)) &&
    live.every((item) => listKeys(field, item))
  ) {
    const result = [...live];
    for (const item of config as Record<string, unknown>[]) {
      const key = keyOf(field, listKeys(field, item)!, item);
      const index = result.findIndex((existing) => hasKey(field, existing, key));
      if (index >= 0) result[index] = mergeApplied(result[index], item, field);
      else result.push(item);
    }
    return result;
  }
  return config;
}

/** Splits a string path into its elements. */
export function splitPath(path: string): FieldPath {
  return path.split(separator);
}

/** `fieldsV1` JSON for a set. */
export function toFieldsV1(set: FieldSet): Record<string, unknown> {
  const root: Record<string, Record<string, unknown>> = {};
  for (const path of [...set].sort()) {
    let node: Record<string, unknown> = root;
    for (const element of splitPath(path)) {
      node[element] ??= {};
      node = node[element] as Record<string, unknown>;
    }
  }
  return root;
}

/** The set a `fieldsV1` tree describes. */
export function fromFieldsV1(tree: unknown): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: unknown, path: string[]): void => {
    if (!isRecord(node)) return;
    for (const [element, child] of Object.entries(node)) {
      const next = [...path, element];
      if (element === '.' || !isRecord(child) || Object.keys(child).length === 0) {
        out.add(next.join(separator));
      } else walk(child, next);
    }
  };
  walk(tree, []);
  return out;
}

/** A path as conflict messages print it: `.spec.replicas`, `.spec.containers[name="app"].image`. */
export function printPath(path: string): string {
  return splitPath(path)
    .filter((element) => element !== '.')
    .map((element) => {
      if (element.startsWith('f:')) return `.${element.slice(2)}`;
      if (element.startsWith('k:')) {
        const key = JSON.parse(element.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(key)
          .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
          .join(',')}]`;
      }
      return `[${element}]`;
    })
    .join('');
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
