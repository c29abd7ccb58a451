import {
  fieldSetOf,
  fromFieldsV1,
  mergeApplied,
  printPath,
  removeAt,
  splitPath,
  toFieldsV1,
  valueAt,
  type FieldSet,
} from './fields';
import { ApiError, clone, deepEqual, timestamp, type KubeObject } from './object';

/** One managedFields entry, with its fields as a set. */
interface Manager {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  readonly subresource?: string;
  fields: FieldSet;
}

/** Who writes, and how. */
export interface WriteContext {
  readonly manager: string;
  readonly apiVersion: string;
}

function readManagers(object: KubeObject | undefined): Manager[] {
  const entries: KubeObject[] = object?.metadata?.managedFields ?? [];
  return entries.map((entry) => ({
    manager: String(entry.manager ?? ''),
    operation: entry.operation === 'Apply' ? 'Apply' : 'Update',
    apiVersion: String(entry.apiVersion ?? ''),
    time: String(entry.time ?? timestamp()),
    ...(entry.subresource ? { subresource: String(entry.subresource) } : {}),
    fields: fromFieldsV1(entry.fieldsV1),
  }));
}

function writeManagers(object: KubeObject, managers: Manager[]): void {
  const kept = managers.filter((each) => each.fields.size > 0);
  object.metadata.managedFields = kept.map((each) => ({
    manager: each.manager,
    operation: each.operation,
    apiVersion: each.apiVersion,
    time: each.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(each.fields),
    ...(each.subresource ? { subresource: each.subresource } : {}),
  }));
  if (kept.length === 0) delete object.metadata.managedFields;
}

// How the API server names a manager in a conflict: appliers by name, updaters with the
// API version they wrote through (k8s.io/apimachinery managedfields/internal/conflict.go).
function printManager(manager: Manager): string {
  const named = JSON.stringify(manager.manager);
  const withSubresource = manager.subresource
    ? `${named} with subresource ${JSON.stringify(manager.subresource)}`
    : named;
  return manager.operation === 'Update' ? `${withSubresource} using ${manager.apiVersion}` : withSubresource;
}

/**
 * Server-side apply of `config` over `live` (undefined on create) for one manager:
 * conflicts with other managers' differing values fail with 409 unless `force`, fields
 * the manager applied before and dropped now are removed unless someone else owns them,
 * and the manager's managedFields entry becomes exactly the applied set.
 */
export function applyConfiguration(
  live: KubeObject | undefined,
  config: KubeObject,
  context: WriteContext & { readonly force: boolean },
): KubeObject {
  const managers = readManagers(live);
  const applied = fieldSetOf(config);
  const others = managers.filter((each) => !(each.manager === context.manager && each.operation === 'Apply'));
  const conflicts: { manager: Manager; path: string }[] = [];
  for (const path of applied) {
    if (path.endsWith('.')) continue;
    const elements = splitPath(path);
    for (const other of others) {
      if (!other.fields.has(path)) continue;
      if (deepEqual(valueAt(live, elements), valueAt(config, elements))) continue;
      conflicts.push({ manager: other, path });
    }
  }
  if (conflicts.length > 0 && !context.force) throw conflictError(conflicts);
  for (const { manager, path } of conflicts) manager.fields.delete(path);

  const base = clone(live ?? { metadata: {} });
  delete base.metadata.managedFields;
  const configWithoutStatus = { ...config };
  delete configWithoutStatus.status;
  const merged = mergeApplied(base, configWithoutStatus) as KubeObject;

  const mine = managers.find((each) => each.manager === context.manager && each.operation === 'Apply');
  for (const path of mine?.fields ?? []) {
    if (applied.has(path)) continue;
    const prefix = path.replace(/\u0000\.$/, '');
    const stillOwned = others.some((other) =>
      [...other.fields].some(
        (owned) => owned === path || owned === prefix || owned.startsWith(`${prefix}\u0000`),
      ),
    );
    if (!stillOwned) removeAt(merged, splitPath(path));
  }

  const now = timestamp();
  const entry: Manager = mine ?? {
    manager: context.manager,
    operation: 'Apply',
    apiVersion: context.apiVersion,
    time: now,
    fields: applied,
  };
  entry.fields = applied;
  entry.apiVersion = context.apiVersion;
  entry.time = now;
  writeManagers(merged, mine ? managers : [...managers, entry]);
  return merged;
}

/**
 * Records a non-apply write (create, update, patch): the fields it changed move to the
 * writer's Update entry and out of everyone else's, as the API server does.
 */
export function recordUpdate(
  old: KubeObject | undefined,
  updated: KubeObject,
  context: WriteContext & { readonly subresource?: string },
): KubeObject {
  const managers = readManagers(old);
  const after = fieldSetOf(updated, context.subresource === 'status');
  const before = old ? fieldSetOf(old, context.subresource === 'status') : new Set<string>();
  // A list item's own entry (`.`) goes to whoever added the item; a change inside an
  // existing item moves only the changed fields (structured-merge-diff's Compare: the
  // item is neither Added nor Modified), as `kubectl set image` leaves it.
  const changed = new Set(
    [...after].filter(
      (path) =>
        !before.has(path) ||
        (!path.endsWith('.') && !deepEqual(valueAt(old, splitPath(path)), valueAt(updated, splitPath(path)))),
    ),
  );
  const removed = [...before].filter((path) => !after.has(path));
  for (const manager of managers) {
    for (const path of [...changed, ...removed]) manager.fields.delete(path);
  }
  const result = clone(updated);
  if (changed.size > 0) {
    const now = timestamp();
    let mine = managers.find(
      (each) =>
        each.manager === context.manager &&
        each.operation === 'Update' &&
        each.subresource === context.subresource &&
        each.apiVersion === context.apiVersion,
    );
    if (!mine) {
      mine = {
        manager: context.manager,
        operation: 'Update',
        apiVersion: context.apiVersion,
        time: now,
        ...(context.subresource ? { subresource: context.subresource } : {}),
        fields: new Set(),
      };
      managers.push(mine);
    }
    for (const path of changed) mine.fields.add(path);
    mine.time = now;
  }
  writeManagers(result, managers);
  return result;
}

// The 409 the API server sends (apimachinery managedfields/internal/conflict.go): one
// cause per conflicting field, and a message that lists them by manager.
function conflictError(conflicts: readonly { manager: Manager; path: string }[]): ApiError {
  const causes = conflicts.map(({ manager, path }) => ({
    type: 'FieldManagerConflict',
    message: `conflict with ${printManager(manager)}`,
    field: printPath(path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.manager)}: ${printPath(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const { manager, path } of conflicts) {
      const name = printManager(manager);
      byManager.set(name, [...(byManager.get(name) ?? []), printPath(path)]);
    }
    const lines: string[] = [];
    for (const name of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${name}:`, ...byManager.get(name)!.map((path) => `- ${path}`));
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}
