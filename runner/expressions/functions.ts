// The built-in functions of Azure Pipelines expressions, as documented in
// https://learn.microsoft.com/azure/devops/pipelines/process/expressions#functions, with
// their argument counts. Arguments arrive unevaluated so that `and`, `or`, `iif`,
// `coalesce`, `in` and `notIn` can stop early, as the service does.
import { formatText } from './format';
import {
  compareValues,
  isObject,
  isTruthy,
  kindOf,
  toText,
  tryText,
  valuesEqual,
  type ExpressionValue,
} from './values';

/** An argument, evaluated when (and only when) the function asks for it. */
export type LazyArgument = () => ExpressionValue;

/** A function of the language: how many arguments it takes and what it does. */
export interface BuiltinFunction {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  call(args: readonly LazyArgument[]): ExpressionValue;
}

const many = Number.POSITIVE_INFINITY;

function define(
  name: string,
  minArgs: number,
  maxArgs: number,
  call: (args: readonly LazyArgument[]) => ExpressionValue,
): BuiltinFunction {
  return { name, minArgs, maxArgs, call };
}

const text = (arg: LazyArgument) => toText(arg());
const upper = (arg: LazyArgument) => text(arg).toUpperCase();

function elementsOf(value: ExpressionValue): readonly ExpressionValue[] {
  if (Array.isArray(value)) return value;
  if (isObject(value)) return Object.values(value);
  return [];
}

function lengthOf(value: ExpressionValue): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.length;
  if (isObject(value)) return Object.keys(value).length;
  // The service's own words (PipelineStrings.InvalidTypeForLengthFunction).
  throw new Error(
    `Kind '${kindOf(value)}' not supported. Only arrays, strings, dictionaries, or collections are supported for the length function.`,
  );
}

function convertToJson(value: ExpressionValue): string {
  const plain = (item: ExpressionValue): unknown => {
    if (Array.isArray(item)) return item.map(plain);
    if (isObject(item)) return Object.fromEntries(Object.entries(item).map(([key, v]) => [key, plain(v)]));
    if (item === null || typeof item !== 'object') return item;
    return toText(item);
  };
  return JSON.stringify(plain(value), null, 2);
}

/** Every built-in function, by name; names are matched without regard to case. */
export const builtinFunctions: readonly BuiltinFunction[] = [
  define('and', 2, many, (args) => args.every((arg) => isTruthy(arg()))),
  define('coalesce', 2, many, (args) => {
    for (const arg of args) {
      const value = arg();
      if (value !== null && value !== '') return value;
    }
    return null;
  }),
  define('contains', 2, 2, ([haystack, needle]) => upper(haystack).includes(upper(needle))),
  define('containsValue', 2, 2, ([collection, needle]) => {
    const wanted = needle();
    return elementsOf(collection()).some((item) => valuesEqual(wanted, item));
  }),
  define('convertToJson', 1, 1, ([value]) => convertToJson(value())),
  define('endsWith', 2, 2, ([value, suffix]) => upper(value).endsWith(upper(suffix))),
  define('eq', 2, 2, ([left, right]) => valuesEqual(left(), right())),
  define('format', 1, many, ([format, ...args]) =>
    formatText(
      text(format),
      args.map((arg) => arg()),
    ),
  ),
  define('ge', 2, 2, ([left, right]) => compareValues(left(), right()) >= 0),
  define('gt', 2, 2, ([left, right]) => compareValues(left(), right()) > 0),
  define('iif', 3, 3, ([condition, whenTrue, whenFalse]) =>
    isTruthy(condition()) ? whenTrue() : whenFalse(),
  ),
  define('in', 1, many, ([needle, ...haystack]) => {
    const wanted = needle();
    return haystack.some((item) => valuesEqual(wanted, item()));
  }),
  define('join', 2, 2, ([separator, items]) => {
    const value = items();
    // Each element becomes text; a sequence or mapping inside becomes ''.
    if (!Array.isArray(value)) return tryText(value) ?? '';
    return value.map((item) => tryText(item) ?? '').join(text(separator));
  }),
  define('le', 2, 2, ([left, right]) => compareValues(left(), right()) <= 0),
  define('length', 1, 1, ([value]) => lengthOf(value())),
  define('lower', 1, 1, ([value]) => text(value).toLowerCase()),
  define('lt', 2, 2, ([left, right]) => compareValues(left(), right()) < 0),
  define('ne', 2, 2, ([left, right]) => !valuesEqual(left(), right())),
  define('not', 1, 1, ([value]) => !isTruthy(value())),
  define('notIn', 1, many, ([needle, ...haystack]) => {
    const wanted = needle();
    return !haystack.some((item) => valuesEqual(wanted, item()));
  }),
  define('or', 2, many, (args) => args.some((arg) => isTruthy(arg()))),
  define('replace', 3, 3, ([value, search, replacement]) => {
    const source = text(value);
    const from = text(search);
    return from === '' ? source : source.split(from).join(text(replacement));
  }),
  define('split', 2, 2, ([value, delimiters]) => {
    const source = text(value);
    const separators = text(delimiters);
    // Any of the delimiting characters splits; empty pieces are kept, as the docs say.
    if (separators === '') return [source];
    const pieces: string[] = [];
    let current = '';
    for (const char of source) {
      if (separators.includes(char)) {
        pieces.push(current);
        current = '';
      } else {
        current += char;
      }
    }
    pieces.push(current);
    return pieces;
  }),
  define('startsWith', 2, 2, ([value, prefix]) => upper(value).startsWith(upper(prefix))),
  define('trim', 1, 1, ([value]) => text(value).trim()),
  define('upper', 1, 1, ([value]) => text(value).toUpperCase()),
  define('xor', 2, 2, ([left, right]) => isTruthy(left()) !== isTruthy(right())),
];

/** The runtime-only functions: job status checks and `counter`, which the caller supplies. */
export const runtimeOnlyFunctions: readonly string[] = [
  'always',
  'canceled',
  'failed',
  'succeeded',
  'succeededOrFailed',
  'counter',
];
