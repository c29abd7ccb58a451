import { badRequest, type KubeObject } from './object';

/** A compiled selector: true when an object matches. */
export type Selector = (object: KubeObject) => boolean;

/**
 * A label selector in its URL form (`app=web,tier!=db,env in (a,b),!legacy,track`),
 * as `?labelSelector=` carries it.
 */
export function parseLabelSelector(text: string | null): Selector {
  if (!text) return () => true;
  const requirements = splitTopLevel(text).map((part) => labelRequirement(part.trim()));
  return (object) => {
    const labels: Record<string, string> = object.metadata?.labels ?? {};
    return requirements.every((requirement) => requirement(labels));
  };
}

function labelRequirement(part: string): (labels: Record<string, string>) => boolean {
  let match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
  if (match) {
    const [, key, operator, list] = match;
    const values = list!.split(',').map((value) => value.trim());
    return operator === 'in'
      ? (labels) => key! in labels && values.includes(labels[key!]!)
      : (labels) => !(key! in labels) || !values.includes(labels[key!]!);
  }
  match = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part);
  if (match) {
    const [, key, operator, value] = match;
    return operator === '!=' ? (labels) => labels[key!] !== value : (labels) => labels[key!] === value;
  }
  match = /^(!?)([\w./-]+)$/.exec(part);
  if (match) {
    const [, not, key] = match;
    return not ? (labels) => !(key! in labels) : (labels) => key! in labels;
  }
  throw badRequest(`unable to parse requirement: ${part}`);
}

/** A field selector (`metadata.name=web,status.phase!=Running`) over any dotted path. */
export function parseFieldSelector(text: string | null): Selector {
  if (!text) return () => true;
  const requirements = text.split(',').map((part) => {
    const match = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const [, path, operator, value] = match;
    const read = (object: KubeObject): string => {
      let current: unknown = object;
      for (const step of path!.split('.')) {
        current =
          current && typeof current === 'object' ? (current as Record<string, unknown>)[step] : undefined;
      }
      return current === undefined || current === null ? '' : String(current);
    };
    return operator === '!='
      ? (object: KubeObject) => read(object) !== value
      : (object: KubeObject) => read(object) === value;
  });
  return (object) => requirements.every((requirement) => requirement(object));
}

/** A `metav1.LabelSelector` (matchLabels and matchExpressions) as a predicate on labels. */
export function matchesLabelSelector(
  selector: KubeObject | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const expression of (selector.matchExpressions ?? []) as KubeObject[]) {
    const key = String(expression.key);
    const values: string[] = expression.values ?? [];
    const has = key in labels;
    if (expression.operator === 'In' && !(has && values.includes(labels[key]!))) return false;
    if (expression.operator === 'NotIn' && has && values.includes(labels[key]!)) return false;
    if (expression.operator === 'Exists' && !has) return false;
    if (expression.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

// Commas inside `in (a,b)` do not separate requirements.
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  if (current.trim()) parts.push(current);
  return parts;
}
