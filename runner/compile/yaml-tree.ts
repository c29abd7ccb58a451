// YAML as compile time works on it: scalars, sequences and mappings that each remember
// where they were written, read with the `yaml` package's Document API and a LineCounter.
// Expansion builds new trees from these nodes and keeps their locations, so an error
// about a step input names the line in the template where the input was written.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import type { PipelineProblem, SourceLocation } from '../model';

/** A scalar: `value` typed by YAML 1.2's core schema, `text` as written (`true`, `0x1F`, `1.0`). */
export interface YScalar {
  readonly kind: 'scalar';
  readonly value: string | number | boolean | null;
  readonly text: string;
  readonly location: SourceLocation;
}

/** A sequence. */
export interface YSequence {
  readonly kind: 'sequence';
  readonly items: readonly YNode[];
  readonly location: SourceLocation;
}

/** One `key: value` of a mapping; keys are scalars. */
export interface YEntry {
  readonly key: YScalar;
  readonly value: YNode;
}

/** A mapping, its entries in the order written. */
export interface YMapping {
  readonly kind: 'mapping';
  readonly entries: readonly YEntry[];
  readonly location: SourceLocation;
}

/** A node of a pipeline or template, with where it was written. */
export type YNode = YScalar | YSequence | YMapping;

/** A scalar made at a place (a default, or an expression's result). */
export function scalar(
  value: string | number | boolean | null,
  text: string,
  location: SourceLocation,
): YScalar {
  return { kind: 'scalar', value, text, location };
}

/** The entry of a mapping with this key (exact case, as YAML keys are), or undefined. */
export function entryOf(mapping: YMapping, key: string): YEntry | undefined {
  return mapping.entries.find((entry) => entry.key.text === key);
}

/** The value of a mapping's key, or undefined. */
export function valueOf(mapping: YMapping, key: string): YNode | undefined {
  return entryOf(mapping, key)?.value;
}

/** A copy of a mapping without the given keys. */
export function withoutKeys(mapping: YMapping, keys: readonly string[]): YMapping {
  return { ...mapping, entries: mapping.entries.filter((entry) => !keys.includes(entry.key.text)) };
}

/** Whether a scalar is YAML's null (`~`, `null`, or nothing at all). */
export function isNull(node: YNode | undefined): boolean {
  return node === undefined || (node.kind === 'scalar' && node.value === null);
}

/** What kind of node, in words for an error ("a mapping"). */
export function describeNode(node: YNode): string {
  if (node.kind === 'mapping') return 'a mapping';
  if (node.kind === 'sequence') return 'a sequence';
  return node.value === null ? 'nothing' : `'${node.text}'`;
}

/** The node as plain data: YAML's own values, as `yaml.parse` would give them. */
export function toPlain(node: YNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'sequence') return node.items.map(toPlain);
  return Object.fromEntries(node.entries.map((entry) => [entry.key.text, toPlain(entry.value)]));
}

/** A YAML file read into a tree, or the problems that stop it being read. */
export type ReadResult =
  | { readonly ok: true; readonly root: YNode }
  | { readonly ok: false; readonly problems: readonly PipelineProblem[] };

/**
 * Reads YAML text. `file` is how locations name it. Syntax errors, duplicate keys,
 * several documents, anchors and aliases (which the service does not support) and keys
 * that are not scalars are problems with their line and column.
 */
export function readYaml(text: string, file: string): ReadResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problems: PipelineProblem[] = [];
  const at = (offset: number | undefined): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  for (const error of document.errors) {
    const location = at(error.pos[0]);
    if (error.code === 'DUPLICATE_KEY') {
      // The service's words for a key given twice (TemplateStrings.ValueAlreadyDefined).
      const key = /^\s*([^:]+?)\s*:/.exec(text.slice(error.pos[0]))?.[1] ?? 'This key';
      problems.push({ location, message: `'${key}' is already defined` });
    } else if (error.code === 'MULTIPLE_DOCS') {
      problems.push({
        location,
        message: 'A pipeline or template file holds one YAML document: remove the `---` and what follows',
      });
    } else {
      problems.push({
        location,
        message: error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const convert = (node: YamlNode | null | undefined, fallbackOffset: number): YNode => {
    if (node === null || node === undefined) return scalar(null, '', at(fallbackOffset));
    const location = at(node.range?.[0] ?? fallbackOffset);
    if (isAlias(node) || node.anchor) {
      problems.push({
        location,
        message: `Anchors and aliases are not supported in pipeline YAML: write the value out instead of '${isAlias(node) ? '*' + node.source : '&' + node.anchor}'`,
      });
    }
    if (isAlias(node)) return scalar(null, '', location);
    if (isScalar(node)) {
      const value = node.value;
      if (
        value === null ||
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean'
      ) {
        const written = typeof value === 'string' ? value : (node.source ?? String(value ?? ''));
        return scalar(
          value,
          value === null && written === '~' ? '' : value === null ? '' : written,
          location,
        );
      }
      return scalar(String(value), String(value), location);
    }
    if (isSeq(node)) {
      return {
        kind: 'sequence',
        items: node.items.map((item) => convert(item as YamlNode, node.range?.[0] ?? fallbackOffset)),
        location,
      };
    }
    if (isMap(node)) {
      const entries: YEntry[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const key = convert(keyNode, node.range?.[0] ?? fallbackOffset);
        if (key.kind !== 'scalar') {
          problems.push({ location: key.location, message: 'A mapping key must be a scalar' });
          continue;
        }
        const valueOffset = keyNode?.range?.[1] ?? fallbackOffset;
        entries.push({ key, value: convert(pair.value as YamlNode | null, valueOffset) });
      }
      return { kind: 'mapping', entries, location };
    }
    return scalar(null, '', location);
  };
  const root = convert(document.contents as YamlNode | null, 0);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, root };
}
