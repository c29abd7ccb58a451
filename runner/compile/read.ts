// Reading expanded YAML nodes as the model's values: text, booleans, numbers, string lists
// and the allowed keys of a mapping, each mistake a problem at its line.
import type { SourceLocation } from '../model';
import type { Problems } from './problems';
import { isNull, type YMapping, type YNode } from './yaml-tree';

/** Keys the runner knows but refuses, with why; the message says so instead of "Unexpected value". */
export type Unsupported = Readonly<Record<string, string>>;

/** Reads nodes, recording every mistake. */
export class NodeReader {
  constructor(readonly problems: Problems) {}

  /** Records `Unexpected value 'x'` for a key not allowed, or why the runner refuses a key it knows. */
  keys(mapping: YMapping, allowed: readonly string[], unsupported: Unsupported = {}): void {
    for (const entry of mapping.entries) {
      const key = entry.key.text;
      if (allowed.includes(key)) continue;
      if (Object.hasOwn(unsupported, key)) this.problems.add(entry.key.location, unsupported[key]);
      else this.problems.add(entry.key.location, `Unexpected value '${key}'`);
    }
  }

  /** A mapping, or a problem and undefined. */
  mapping(node: YNode | undefined, what: string): YMapping | undefined {
    if (node === undefined || isNull(node)) return undefined;
    if (node.kind === 'mapping') return node;
    this.problems.add(node.location, `${what} must be a mapping`);
    return undefined;
  }

  /** A scalar's text ('' for null), or a problem and undefined for a sequence or mapping. */
  text(node: YNode | undefined, what: string): string | undefined {
    if (node === undefined) return undefined;
    if (node.kind === 'scalar') return node.text;
    this.problems.add(node.location, `${what} must be a single value, not a ${node.kind}`);
    return undefined;
  }

  /** `true`/`false` in any case, or a problem. */
  boolean(node: YNode | undefined, what: string): boolean | undefined {
    if (node === undefined || isNull(node)) return undefined;
    if (node.kind === 'scalar') {
      if (typeof node.value === 'boolean') return node.value;
      if (/^(true|false)$/i.test(node.text.trim())) return node.text.trim().toLowerCase() === 'true';
    }
    this.problems.add(
      node.location,
      `${what} must be true or false, not ${node.kind === 'scalar' ? `'${node.text}'` : `a ${node.kind}`}`,
    );
    return undefined;
  }

  /** A whole number of at least `minimum`, or a problem. */
  integer(node: YNode | undefined, what: string, minimum = 0): number | undefined {
    if (node === undefined || isNull(node)) return undefined;
    if (node.kind === 'scalar' && /^\s*\d+\s*$/.test(node.text) && Number(node.text) >= minimum)
      return Number(node.text);
    this.problems.add(
      node.location,
      `${what} must be a whole number${minimum > 0 ? ` of at least ${minimum}` : ''}, not ${node.kind === 'scalar' ? `'${node.text}'` : `a ${node.kind}`}`,
    );
    return undefined;
  }

  /** A single value or a list of values (`dependsOn: A` or `dependsOn: [A, B]`). */
  textList(node: YNode | undefined, what: string): string[] | undefined {
    if (node === undefined) return undefined;
    if (isNull(node)) return [];
    if (node.kind === 'scalar') return node.text === '' ? [] : [node.text];
    if (node.kind === 'sequence') {
      return node.items.flatMap((item) => {
        const value = this.text(item, `Each of ${what}`);
        return value === undefined ? [] : [value];
      });
    }
    this.problems.add(node.location, `${what} must be a value or a list of values`);
    return undefined;
  }

  /** A mapping of text values (`env:`), each value's text. */
  textMap(
    node: YNode | undefined,
    what: string,
  ): { values: Record<string, string>; locations: Record<string, SourceLocation> } {
    const values: Record<string, string> = {};
    const locations: Record<string, SourceLocation> = {};
    const mapping = this.mapping(node, what);
    for (const entry of mapping?.entries ?? []) {
      const value = this.text(entry.value, `${what} ${entry.key.text}`);
      if (value === undefined) continue;
      values[entry.key.text] = value;
      locations[entry.key.text] = entry.key.location;
    }
    return { values, locations };
  }
}

// Valid names "may only contain alphanumeric characters and '_' and may not start with a
// number" (the service's NameValidation).
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether a stage, job or step name is valid. */
export function isValidName(name: string): boolean {
  return identifier.test(name);
}
