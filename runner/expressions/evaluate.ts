// Evaluates a parsed expression against the named values and functions of where it is
// evaluated: compile time (`${{ }}`: parameters, variables, loop variables) or run time
// (`$[ ]` and conditions: variables, dependencies, status functions, counter).
import { ExpressionError } from './errors';
import { builtinFunctions, runtimeOnlyFunctions, type BuiltinFunction } from './functions';
import { parseExpression, type ExpressionNode, type ParsedExpression } from './parser';
import { ConversionError, isObject, propertyOf, toText, tryNumber, type ExpressionValue } from './values';

/**
 * A function the caller supplies: the status functions (`succeeded(...names)` means
 * something different for a step, a job and a stage) and `counter`.
 */
export interface ExtraFunction {
  readonly minArgs: number;
  readonly maxArgs: number;
  call(args: readonly ExpressionValue[]): ExpressionValue;
}

/** Where an expression is evaluated: what it may read and call. */
export interface EvaluationContext {
  /**
   * `compile` refuses the status functions and `counter` as the service does at compile
   * time ("Unrecognized value"), whatever `functions` holds.
   */
  readonly mode: 'compile' | 'runtime';
  /** The named values, matched without regard to case: `parameters`, `variables`, `dependencies`... */
  readonly namedValues: Readonly<Record<string, ExpressionValue>>;
  /** Functions beyond the built-ins, by name (matched without regard to case). */
  readonly functions?: Readonly<Record<string, ExtraFunction>>;
}

const builtins = new Map(builtinFunctions.map((fn) => [fn.name.toLowerCase(), fn]));
const runtimeOnly = new Set(runtimeOnlyFunctions.map((name) => name.toLowerCase()));

function lookup<T>(table: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  if (table === undefined) return undefined;
  if (Object.hasOwn(table, name)) return table[name];
  const lower = name.toLowerCase();
  const match = Object.keys(table).find((key) => key.toLowerCase() === lower);
  return match === undefined ? undefined : table[match];
}

function describeArity(minArgs: number, maxArgs: number): string {
  if (minArgs === maxArgs) return `exactly ${minArgs} argument${minArgs === 1 ? '' : 's'}`;
  if (maxArgs === Number.POSITIVE_INFINITY) return `at least ${minArgs} argument${minArgs === 1 ? '' : 's'}`;
  return `${minArgs} to ${maxArgs} arguments`;
}

type Callable = Pick<BuiltinFunction, 'minArgs' | 'maxArgs'> & {
  call(args: readonly (() => ExpressionValue)[]): ExpressionValue;
};

function resolveFunction(name: string, context: EvaluationContext): Callable | undefined {
  const builtin = builtins.get(name.toLowerCase());
  if (builtin) return builtin;
  if (context.mode === 'compile' && runtimeOnly.has(name.toLowerCase())) return undefined;
  const extra = lookup(context.functions, name);
  if (extra === undefined) return undefined;
  return { ...extra, call: (args) => extra.call(args.map((arg) => arg())) };
}

// Checks every name and function before anything is evaluated, so that a mistake in a
// branch that short-circuiting would skip is still reported, as the service reports it
// when it parses.
function check(node: ExpressionNode, parsed: ParsedExpression, context: EvaluationContext): void {
  switch (node.kind) {
    case 'literal':
      return;
    case 'name':
      if (lookup(context.namedValues, node.name) === undefined)
        throw ExpressionError.at('Unrecognized value', node.name, node.position, parsed.text);
      return;
    case 'index':
      check(node.object, parsed, context);
      check(node.key, parsed, context);
      return;
    case 'filter':
      check(node.object, parsed, context);
      return;
    case 'call': {
      const fn = resolveFunction(node.name, context);
      if (fn === undefined) {
        // At compile time the service calls a status function an unrecognized value.
        if (runtimeOnly.has(node.name.toLowerCase()))
          throw ExpressionError.at('Unrecognized value', node.name, node.position, parsed.text);
        const known = [
          ...builtinFunctions.map((builtin) => builtin.name),
          ...Object.keys(context.functions ?? {}),
        ];
        throw new ExpressionError(
          `Unrecognized function: '${node.name}'. Located at position ${node.position + 1} within expression: ${parsed.text}. ` +
            `Functions: ${known.join(', ')}.`,
          parsed.text,
        );
      }
      if (node.args.length < fn.minArgs || node.args.length > fn.maxArgs) {
        throw new ExpressionError(
          `Wrong number of arguments: '${node.name}' takes ${describeArity(fn.minArgs, fn.maxArgs)}, ` +
            `not ${node.args.length}. Located at position ${node.position + 1} within expression: ${parsed.text}.`,
          parsed.text,
        );
      }
      for (const arg of node.args) check(arg, parsed, context);
      return;
    }
  }
}

// `a.b`, `a['b']` and `a[0]`: a missing key or index, or indexing into a scalar, is null.
function index(object: ExpressionValue, key: ExpressionValue): ExpressionValue {
  if (Array.isArray(object)) {
    const position = tryNumber(key);
    if (position === undefined || !Number.isInteger(position) || position < 0) return null;
    return object[position] ?? null;
  }
  if (isObject(object)) return propertyOf(object, toText(key));
  return null;
}

// `a.*`: the elements of a sequence, or the values of a mapping; anything else gives none.
function filter(object: ExpressionValue): ExpressionValue[] {
  if (Array.isArray(object)) return [...object];
  if (isObject(object)) return Object.values(object);
  return [];
}

// A filtered sequence spreads what follows over its elements: `dependencies.*.result`.
const filtered = new WeakSet<readonly ExpressionValue[]>();

function evaluateNode(node: ExpressionNode, context: EvaluationContext): ExpressionValue {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'name':
      return lookup(context.namedValues, node.name) ?? null;
    case 'index': {
      const object = evaluateNode(node.object, context);
      const key = evaluateNode(node.key, context);
      if (Array.isArray(object) && filtered.has(object)) {
        const result = object.map((item) => index(item, key)).filter((item) => item !== null);
        filtered.add(result);
        return result;
      }
      return index(object, key);
    }
    case 'filter': {
      const object = evaluateNode(node.object, context);
      const result =
        Array.isArray(object) && filtered.has(object)
          ? object.flatMap((item) => filter(item))
          : filter(object);
      filtered.add(result);
      return result;
    }
    case 'call': {
      const fn = resolveFunction(node.name, context)!;
      return fn.call(node.args.map((arg) => () => evaluateNode(arg, context)));
    }
  }
}

/**
 * Checks an expression's names, functions and argument counts against a context without
 * evaluating it (what the service does when it parses a condition at compile time).
 */
export function checkExpression(
  expression: string | ParsedExpression,
  context: EvaluationContext,
): ParsedExpression {
  const parsed = typeof expression === 'string' ? parseExpression(expression) : expression;
  check(parsed.root, parsed, context);
  return parsed;
}

/**
 * Evaluates an expression, given as text (without `${{ }}` or `$[ ]`) or already parsed.
 * Every failure is an ExpressionError that quotes the expression.
 */
export function evaluate(expression: string | ParsedExpression, context: EvaluationContext): ExpressionValue {
  const parsed = typeof expression === 'string' ? parseExpression(expression) : expression;
  check(parsed.root, parsed, context);
  try {
    return evaluateNode(parsed.root, context);
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
    if (error instanceof ConversionError || error instanceof Error)
      throw ExpressionError.evaluating(error.message, parsed.text);
    throw error;
  }
}
