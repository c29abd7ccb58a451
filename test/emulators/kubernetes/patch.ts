import { isRecord, listKeys } from './fields';
import { badRequest, clone, deepEqual, type KubeObject } from './object';

/** The patch types the API server takes, by Content-Type. */
export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

/** The patch type a Content-Type names, or undefined (415 follows). */
export function patchTypeOf(contentType: string): PatchType | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/merge-patch+json') return 'merge';
  if (type === 'application/strategic-merge-patch+json') return 'strategic';
  if (type === 'application/json-patch+json') return 'json';
  if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+cbor') return 'apply';
  return undefined;
}

/** RFC 7386 JSON merge patch: null deletes, objects merge, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Strategic merge patch as far as the deploy flows need it: a merge patch whose keyed
 * lists (containers by name, env by name, ...) merge item by item instead of replacing.
 */
export function strategicMergePatch(target: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch) && Array.isArray(target) && patch.every((item) => listKeys(field, item))) {
    const result = [...target];
    for (const item of patch as Record<string, unknown>[]) {
      const keys = listKeys(field, item)!;
      const index = result.findIndex(
        (existing) => isRecord(existing) && keys.every((key) => deepEqual(existing[key], item[key])),
      );
      if (item.$patch === 'delete') {
        if (index >= 0) result.splice(index, 1);
      } else if (index >= 0) result[index] = strategicMergePatch(result[index], item, field);
      else result.push(item);
    }
    return result;
  }
  if (!isRecord(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const replaced = { ...patch };
    delete replaced.$patch;
    return replaced;
  }
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else result[key] = strategicMergePatch(result[key], value, key);
  }
  return result;
}

/** RFC 6902 JSON patch (add, remove, replace, test, copy, move). */
export function jsonPatch(target: KubeObject, operations: unknown): KubeObject {
  if (!Array.isArray(operations)) throw badRequest('json patch must be a list of operations');
  const document = clone(target);
  for (const operation of operations as Record<string, unknown>[]) {
    const op = String(operation.op);
    const path = pointer(String(operation.path ?? ''));
    if (op === 'test') {
      if (!deepEqual(read(document, path), operation.value))
        throw badRequest(`testing value ${String(operation.path)} failed`);
    } else if (op === 'remove') {
      write(document, path, undefined, 'remove');
    } else if (op === 'add' || op === 'replace') {
      write(document, path, clone(operation.value), op);
    } else if (op === 'copy' || op === 'move') {
      const from = pointer(String(operation.from ?? ''));
      const value = clone(read(document, from));
      if (op === 'move') write(document, from, undefined, 'remove');
      write(document, path, value, 'add');
    } else throw badRequest(`Unexpected kind: ${op}`);
  }
  return document;
}

function pointer(text: string): string[] {
  if (text === '') return [];
  return text
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function read(document: unknown, path: string[]): unknown {
  let current = document;
  for (const part of path) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isRecord(current)) current = current[part];
    else return undefined;
  }
  return current;
}

function write(document: KubeObject, path: string[], value: unknown, op: 'add' | 'replace' | 'remove'): void {
  const parent = read(document, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last === undefined) throw badRequest('the root of the document cannot be patched');
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (op === 'add') parent.splice(index, 0, value);
    else if (op === 'replace') parent[index] = value;
    else parent.splice(index, 1);
  } else if (isRecord(parent)) {
    if (op === 'remove') {
      if (!(last in parent))
        throw badRequest(
          `the server rejected our request due to an error in our request: remove operation does not apply: doc is missing path: "/${path.join('/')}"`,
        );
      delete parent[last];
    } else parent[last] = value;
  } else {
    throw badRequest(
      `the server rejected our request due to an error in our request: doc is missing path: "/${path.join('/')}"`,
    );
  }
}
