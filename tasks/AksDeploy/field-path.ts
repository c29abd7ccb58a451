import { isDeepStrictEqual } from 'node:util';
import { isRecord } from '../shared/kubernetes/object';

/**
 * Whether an object holds the field a server-side apply conflict names, in the API
 * server's notation (sigs.k8s.io/structured-merge-diff fieldpath.Path.String):
 * `.spec.template.spec.containers[name="api"].image`, with `[k=v,...]` for a list item
 * by its keys (values in JSON), `[=v]` for a set member and `[n]` for a list index.
 * A field name may hold dots (`.metadata.annotations.example.com/owner`), so each name
 * is matched against the keys the object has, longest first.
 */
export function hasFieldPath(object: unknown, path: string): boolean {
  let node: unknown = object;
  let at = 0;
  while (at < path.length) {
    if (path[at] === '.') {
      if (!isRecord(node)) return false;
      const key = longestKeyAt(node, path, at + 1);
      if (key === undefined) return false;
      node = node[key];
      at += 1 + key.length;
    } else if (path[at] === '[') {
      const end = closingBracket(path, at);
      if (end < 0 || !Array.isArray(node)) return false;
      node = listItem(node, path.slice(at + 1, end));
      if (node === undefined) return false;
      at = end + 1;
    } else {
      return false;
    }
  }
  return node !== undefined;
}

function longestKeyAt(node: Record<string, unknown>, path: string, at: number): string | undefined {
  return Object.keys(node)
    .filter((key) => path.startsWith(key, at) && ['.', '[', undefined].includes(path[at + key.length]))
    .sort((a, b) => b.length - a.length)[0];
}

/** The index of the `]` that closes the `[` at `open`, skipping JSON strings. */
function closingBracket(path: string, open: number): number {
  let inString = false;
  for (let i = open + 1; i < path.length; i++) {
    const char = path[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === ']') return i;
  }
  return -1;
}

function listItem(list: unknown[], selector: string): unknown {
  if (/^\d+$/.test(selector)) return list[Number(selector)];
  if (selector.startsWith('=')) {
    const value = parseJson(selector.slice(1));
    return list.find((item) => isDeepStrictEqual(item, value));
  }
  const keys = splitKeys(selector);
  if (!keys) return undefined;
  return list.find(
    (item) => isRecord(item) && keys.every(([key, value]) => isDeepStrictEqual(item[key], value)),
  );
}

/** `name="api",port=80` into its pairs; undefined when it does not read. */
function splitKeys(selector: string): [string, unknown][] | undefined {
  const pairs: [string, unknown][] = [];
  const pair = /([^=,]+)=("(?:[^"\\]|\\.)*"|[^,]*)(?:,|$)/y;
  while (pair.lastIndex < selector.length) {
    const match = pair.exec(selector);
    if (!match) return undefined;
    const value = parseJson(match[2]!);
    if (value === undefined) return undefined;
    pairs.push([match[1]!, value]);
  }
  return pairs;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
