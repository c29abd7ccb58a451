// YAML nodes as expression values and back. A sequence or mapping that an expression
// returns unchanged (a stepList parameter, an `each` item) becomes its original node
// again, so its steps keep the file and line where they were written.
import { formatNumber, isObject, toText, type ExpressionValue } from '../expressions';
import type { SourceLocation } from '../model';
import { scalar, type YEntry, type YNode } from './yaml-tree';

const origins = new WeakMap<object, YNode>();

/** A node as an expression value: scalars typed as YAML typed them, mappings as objects. */
export function nodeToValue(node: YNode): ExpressionValue {
  if (node.kind === 'scalar') return node.value;
  const value: ExpressionValue =
    node.kind === 'sequence'
      ? node.items.map(nodeToValue)
      : Object.fromEntries(node.entries.map((entry) => [entry.key.text, nodeToValue(entry.value)]));
  origins.set(value as object, node);
  return value;
}

/**
 * An expression's value as a node at `location` (where the expression was written), or
 * the node it came from when it is a sequence or mapping read from YAML.
 */
export function valueToNode(value: ExpressionValue, location: SourceLocation): YNode {
  if (value !== null && typeof value === 'object') {
    const origin = origins.get(value);
    if (origin) return origin;
  }
  if (Array.isArray(value))
    return { kind: 'sequence', items: value.map((item) => valueToNode(item, location)), location };
  if (isObject(value)) {
    const entries: YEntry[] = Object.entries(value).map(([key, item]) => ({
      key: scalar(key, key, location),
      value: valueToNode(item, location),
    }));
    return { kind: 'mapping', entries, location };
  }
  if (value === null) return scalar(null, '', location);
  if (typeof value === 'string') return scalar(value, value, location);
  if (typeof value === 'number') return scalar(value, formatNumber(value), location);
  if (typeof value === 'boolean') return scalar(value, toText(value), location);
  return scalar(toText(value), toText(value), location);
}
