import { isRecord, type KubeObject } from '../shared/kubernetes/object';

/** One field that differs between the live object and what the apply would make of it. */
export interface FieldChange {
  /** As kubectl prints field paths: `.spec.replicas`, `.spec.template.spec.containers[name="api"].image`. */
  readonly path: string;
  readonly change: 'added' | 'changed' | 'removed';
  /** The values, shortened; absent when they must not be shown (Secret data). */
  readonly from?: string;
  readonly to?: string;
}

// Written by the server on every change, so they differ without anything having changed.
const serverMetadata = new Set([
  'managedFields',
  'resourceVersion',
  'generation',
  'uid',
  'creationTimestamp',
]);
// Kinds whose data must never reach the log, even as a diff.
const secretKinds = new Set(['Secret']);
// kubectl's client-side apply copies the whole object here, Secret data included.
const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
const longestValue = 60;

/**
 * The fields that differ between the live object and the server's dry-run answer, status
 * and server-written metadata aside. Lists of objects with a `name` (containers, env,
 * ports, volumes) are compared by name, as the API's merge keys do, so that inserting one
 * container shows as one added container, not every later one changed. Secret data is
 * named but its values are never shown.
 */
export function fieldChanges(live: KubeObject, planned: KubeObject): FieldChange[] {
  const before = flatten(comparable(live));
  const after = flatten(comparable(planned));
  const hidden = secretKinds.has(planned.kind);
  const show = (path: string, value: unknown): string | undefined =>
    (hidden && /^\.(data|stringData)\b/.test(path)) || path.includes(lastApplied)
      ? undefined
      : shorten(value);
  const changes: FieldChange[] = [];
  for (const [path, value] of after) {
    const old = before.get(path);
    if (!before.has(path)) changes.push(withValues({ path, change: 'added' }, undefined, show(path, value)));
    else if (JSON.stringify(old) !== JSON.stringify(value))
      changes.push(withValues({ path, change: 'changed' }, show(path, old), show(path, value)));
  }
  for (const [path, value] of before) {
    if (!after.has(path)) changes.push(withValues({ path, change: 'removed' }, show(path, value), undefined));
  }
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}

/** Log lines for the changes, at most `limit` of them and then how many more. */
export function describeChanges(changes: readonly FieldChange[], limit = 20): string[] {
  const lines = changes.slice(0, limit).map((c) => {
    if (c.change === 'added') return `  + ${c.path}${c.to === undefined ? '' : `: ${c.to}`}`;
    if (c.change === 'removed') return `  - ${c.path}`;
    return c.from === undefined || c.to === undefined
      ? `  ~ ${c.path} (value hidden)`
      : `  ~ ${c.path}: ${c.from} -> ${c.to}`;
  });
  if (changes.length > limit) lines.push(`  ... and ${changes.length - limit} more fields`);
  return lines;
}

function withValues(change: FieldChange, from: string | undefined, to: string | undefined): FieldChange {
  return { ...change, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

function comparable(object: KubeObject): Record<string, unknown> {
  const metadata = Object.fromEntries(
    Object.entries(object.metadata).filter(([key]) => !serverMetadata.has(key)),
  );
  const { status, ...rest } = object;
  void status;
  return { ...rest, metadata };
}

/** Leaf values by path; an empty object or list is a leaf of its own, so that adding `{}` shows. */
function flatten(value: unknown, path = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (isRecord(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) flatten(child, `${path}.${key}`, out);
  } else if (Array.isArray(value) && value.length > 0) {
    const byName = value.every((item) => isRecord(item) && typeof item.name === 'string');
    value.forEach((item, index) =>
      flatten(
        item,
        `${path}[${byName ? `name=${JSON.stringify((item as { name: string }).name)}` : index}]`,
        out,
      ),
    );
  } else {
    out.set(path, value);
  }
  return out;
}

function shorten(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > longestValue ? `${text.slice(0, longestValue - 3)}...` : text;
}
