import { JSONPath } from 'jsonpath-plus';
import { excerpt } from '../shared/redaction';

/**
 * Checks a JSONPath when the checks file is read, before any request. jsonpath-plus splits
 * a path leniently and compiles a filter only when a response reaches it, so a typo such as
 * `$.version[?(@ =~ /^1/` would otherwise pass silently on an empty body, or fail one check
 * per run, which a pass-rate margin can hide. Evaluating against an empty object does not
 * help: a filter runs only on the values it filters. So the path is scanned for brackets,
 * parentheses, quotes and regular expressions that do not close, split the way jsonpath-plus
 * splits it, and every filter and script is compiled by jsonpath-plus's own safe evaluator
 * and checked for what that evaluator cannot run.
 */

/** Why `path` cannot be evaluated, in words with the fix, or undefined when it can. */
export function jsonPathProblem(path: string): string | undefined {
  const structural = structureProblem(path);
  if (structural) return structural;
  if (/(^|[^.])\.$/.test(path)) return 'it ends with "."; name a field after it, for example $.status';
  if (/\[\s*\]/.test(path))
    return 'it has an empty "[]"; put an index, a name or a filter in it, such as [0]';
  for (const segment of JSONPath.toPathArray(path)) {
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  return undefined;
}

type Opener = { readonly char: '[' | '('; readonly at: number };

const closerOf = { '[': ']', '(': ')' } as const;

// After one of these, "/" inside a script starts a regular expression; after a value it divides.
const regexMayFollow = /^$|[(,=:[!&|?{};~+\-*%<>]$/;

/** The first bracket, parenthesis, quote or regular expression that does not close. */
function structureProblem(path: string): string | undefined {
  const open: Opener[] = [];
  let quote: { readonly char: string; readonly at: number } | undefined;
  let regexAt: number | undefined;
  let previous = '';
  for (let index = 0; index < path.length; index++) {
    const char = path[index] as string;
    if (quote || regexAt !== undefined) {
      if (char === '\\') index++;
      else if (quote && char === quote.char) quote = undefined;
      else if (!quote && char === '/') regexAt = undefined;
      if (!quote && regexAt === undefined) previous = char;
      continue;
    }
    const inScript = open.some((opener) => opener.char === '(');
    if (char === "'" || char === '"') quote = { char, at: index };
    else if (char === '/' && inScript && regexMayFollow.test(previous)) regexAt = index;
    else if (char === '[' || char === '(') open.push({ char, at: index });
    else if (char === ']' || char === ')') {
      const opener = open.pop();
      if (!opener) return `the "${char}" at character ${index + 1} closes nothing; remove it`;
      if (closerOf[opener.char] !== char)
        return `the "${opener.char}" at character ${opener.at + 1} is not closed with "${closerOf[opener.char]}" before the "${char}" at character ${index + 1}`;
    }
    if (!/\s/.test(char)) previous = char;
  }
  if (quote) return `the quote at character ${quote.at + 1} is not closed; close it with ${quote.char}`;
  if (regexAt !== undefined)
    return `the regular expression at character ${regexAt + 1} is not closed; end it with "/"`;
  const unclosed = open.pop();
  if (unclosed)
    return `the "${unclosed.char}" at character ${unclosed.at + 1} is not closed; close it with "${closerOf[unclosed.char]}"`;
  return undefined;
}

// jsonpath-plus's own test for a filter holding a nested filter; it traces the inner one instead.
const nestedFilter = /@.?([^?]*)[['](\??\(.*?\))(?!.\)\])[\]']/u;

function segmentProblem(segment: string): string | undefined {
  if (segment.startsWith('?(')) {
    const inner = segment.replace(/^\?\((.*?)\)$/u, '$1');
    const nested = nestedFilter.exec(inner);
    if (nested) return segmentProblem(nested[2] as string);
    return scriptProblem(inner, segment);
  }
  if (segment.startsWith('(')) return scriptProblem(segment, segment);
  return undefined;
}

interface ScriptNode {
  readonly type: string;
  readonly operator?: string;
  readonly name?: string;
  readonly computed?: boolean;
  readonly [child: string]: unknown;
}

/** The compiler jsonpath-plus evaluates filters with (`eval: 'safe'`); its prototype exposes it so it can be swapped. */
function safeScript(): new (code: string) => { readonly ast: ScriptNode } {
  const script = (JSONPath.prototype as unknown as { safeVm?: { Script?: unknown } }).safeVm?.Script;
  if (typeof script !== 'function')
    throw new Error('jsonpath-plus no longer exposes its safe script compiler');
  return script as new (code: string) => { readonly ast: ScriptNode };
}

// The names jsonpath-plus gives a filter: @ for the item, @root, @parent, and so on.
const filterNames: Readonly<Record<string, string>> = {
  _$_v: '@',
  _$_root: '@root',
  _$_parent: '@parent',
  _$_parentProperty: '@parentProperty',
  _$_property: '@property',
  _$_path: '@path',
};

// The operators jsonpath-plus's safe evaluator implements; jsep parses more (??, **).
const binaryOperators = new Set([
  '||',
  '&&',
  '|',
  '^',
  '&',
  '==',
  '!=',
  '===',
  '!==',
  '<',
  '>',
  '<=',
  '>=',
  '<<',
  '>>',
  '>>>',
  '+',
  '-',
  '*',
  '/',
  '%',
]);

/** Compiles one filter or script as jsonpath-plus would, and checks it only uses what its evaluator runs. */
function scriptProblem(code: string, segment: string): string | undefined {
  const shown = `"${excerpt(segment, 80)}"`;
  // The same rewrite of @-names that jsonpath-plus makes before it compiles a filter.
  let script = code
    .replaceAll('@parentProperty', '_$_parentProperty')
    .replaceAll('@parent', '_$_parent')
    .replaceAll('@property', '_$_property')
    .replaceAll('@root', '_$_root')
    .replaceAll(/@([.\s)[])/gu, '_$_v$1');
  if (code.includes('@path')) script = script.replaceAll('@path', '_$_path');
  let ast: ScriptNode;
  try {
    ast = new (safeScript())(script).ast;
  } catch (error) {
    const reason = (error as Error).message
      .replace(/ at character \d+$/, '')
      .replace(/_\$_v\b/g, '@')
      .replace(/_\$_(\w+)/g, '@$1');
    return `the filter ${shown} is not a valid expression (${reason}); write it as in $.items[?(@.sku == 'A1')]`;
  }
  const problem = expressionProblem(ast, new Set(Object.keys(filterNames)));
  if (!problem) return undefined;
  if (/=~/.test(code))
    return `the filter ${shown} uses =~, which JSONPath here does not have; match with @.match(/pattern/), or select the value and use "matches"`;
  return `the filter ${shown} ${problem}`;
}

/** What in a compiled filter jsonpath-plus's safe evaluator cannot run, or undefined. */
function expressionProblem(node: ScriptNode, names: ReadonlySet<string>): string | undefined {
  const children = (...keys: string[]): string | undefined => {
    for (const key of keys) {
      const child = node[key];
      for (const each of Array.isArray(child) ? child : [child]) {
        if (each && typeof each === 'object') {
          const problem = expressionProblem(each as ScriptNode, names);
          if (problem) return problem;
        }
      }
    }
    return undefined;
  };
  switch (node.type) {
    case 'Literal':
      return undefined;
    case 'Identifier':
      return names.has(node.name ?? '')
        ? undefined
        : `uses "${node.name}", which a filter cannot see; use @ (the item), @root, @parent, @property, @parentProperty or @path`;
    case 'MemberExpression': {
      const object = children('object');
      if (object || !node.computed) return object;
      // The evaluator reads a computed property without the filter's names: only literals work there.
      return expressionProblem(node.property as ScriptNode, new Set());
    }
    case 'BinaryExpression':
    case 'LogicalExpression':
      return binaryOperators.has(node.operator ?? '')
        ? children('left', 'right')
        : `uses the operator ${node.operator}, which JSONPath filters here do not support`;
    case 'UnaryExpression':
      return children('argument');
    case 'ConditionalExpression':
      return children('test', 'consequent', 'alternate');
    case 'ArrayExpression':
      return children('elements');
    case 'CallExpression':
      return children('callee', 'arguments');
    case 'AssignmentExpression':
      return 'assigns with "=" instead of comparing; compare with == or ===';
    case 'UpdateExpression':
      return `changes a value with ${node.operator}; a filter only reads values`;
    case 'Compound':
    case 'SequenceExpression':
      return 'holds more than one expression; a filter is one expression, such as @.ready == true';
    default:
      return `holds something JSONPath filters here cannot evaluate (${node.type}); use comparisons such as @.ready == true`;
  }
}
