/**
 * Runtime expressions, where the run meets the expression language: conditions of stages,
 * jobs and steps with their status functions, and `$[ ]` variable values, each with the
 * named values the service offers at that level.
 */
import {
  evaluate,
  isTruthy,
  toText,
  wholeRuntimeExpression,
  type ExpressionValue,
  type ExtraFunction,
} from '../expressions';
import { isSuccess, type RecordResult } from './record';

/** What a dependency (a stage or a job) looks like to an expression. */
export interface DependencyView {
  readonly result: RecordResult;
  readonly outputs: Readonly<Record<string, string>>;
}

/** The named values of one evaluation: `variables`, `dependencies`, `stageDependencies`, `pipeline`, `resources`. */
export type NamedValues = Readonly<Record<string, unknown>>;

/** Functions the run supplies: the status functions, `counter`. */
export type RunFunctions = Readonly<Record<string, ExtraFunction>>;

/**
 * The status functions at a level: `succeeded`, `failed`, `succeededOrFailed`, `always`,
 * `canceled`. For stages and jobs they look at the dependencies (all of them, or those
 * named); for steps at the job so far.
 */
export function statusFunctions(options: {
  /** Results of the dependencies by name (stages or jobs); for steps, the job so far under one name. */
  readonly dependencies: Readonly<Record<string, RecordResult>>;
  /** The names `succeeded()` with no argument looks at. */
  readonly defaults: readonly string[];
  readonly canceled: boolean;
}): RunFunctions {
  const pick = (names: readonly ExpressionValue[]) => {
    const wanted = names.length > 0 ? names.map((name) => toText(name)) : options.defaults;
    return wanted.map(
      (name) =>
        Object.entries(options.dependencies).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1],
    );
  };
  const variadic = (call: (names: readonly ExpressionValue[]) => boolean): ExtraFunction => ({
    minArgs: 0,
    maxArgs: Number.POSITIVE_INFINITY,
    call,
  });
  return {
    always: { minArgs: 0, maxArgs: 0, call: () => true },
    canceled: { minArgs: 0, maxArgs: 0, call: () => options.canceled },
    succeeded: variadic(
      (names) =>
        !options.canceled && pick(names).every((result) => result !== undefined && isSuccess(result)),
    ),
    failed: variadic((names) => !options.canceled && pick(names).some((result) => result === 'Failed')),
    succeededOrFailed: variadic(
      (names) =>
        !options.canceled && pick(names).every((result) => result !== undefined && result !== 'Canceled'),
    ),
  };
}

/** Whether a condition holds; the default condition is `succeeded()`. */
export function conditionHolds(
  condition: string | undefined,
  named: NamedValues,
  functions: RunFunctions,
): boolean {
  return isTruthy(
    evaluate(condition?.trim() || 'succeeded()', {
      mode: 'runtime',
      namedValues: named as Record<string, ExpressionValue>,
      functions,
    }),
  );
}

/** A variable value: a whole-value runtime expression (`$[ ... ]`) evaluated to text, anything else as it is. */
export function variableValue(value: string, named: NamedValues, functions: RunFunctions = {}): string {
  const expression = wholeRuntimeExpression(value);
  if (expression === undefined) return value;
  return toText(
    evaluate(expression, {
      mode: 'runtime',
      namedValues: named as Record<string, ExpressionValue>,
      functions,
    }),
  );
}

/** `counter(prefix, seed)` over a store that keeps the numbers between runs. */
export function counterFunction(next: (prefix: string, seed: number) => number): ExtraFunction {
  return {
    minArgs: 2,
    maxArgs: 2,
    call: ([prefix, seed]) => next(toText(prefix ?? ''), Number(seed ?? 0)),
  };
}
