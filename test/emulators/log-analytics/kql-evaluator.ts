/**
 * Evaluates a parsed KQL query over in-memory tables, with Kusto's semantics for the subset
 * the parser takes (https://learn.microsoft.com/kusto/query/): nulls compare false, `==` is
 * case-sensitive and `=~`, `has`, `contains`, `startswith` are not, `has` matches whole terms,
 * integer division truncates, `order by` sorts descending unless told otherwise, and a
 * summarize without `by` over no rows still answers one row. Each expression is compiled
 * once into a closure over the row, so a query over 100 000 rows takes milliseconds.
 */
import type { ColumnSchema, KqlType } from './tables';
import type { Expr, NamedExpr, Operator, Query, SortKey, Tabular } from './kql-parser';

/** A table in memory: its columns and its rows, each an array in column order. */
export interface Table {
  readonly columns: readonly ColumnSchema[];
  readonly rows: readonly (readonly unknown[])[];
}

/** A query that parsed but names something the schema lacks, as the service's SemanticError. */
export class KqlSemanticError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What evaluation needs besides the query. */
export interface EvaluationContext {
  /** The table of that name, filtered to the request's timespan and to what is visible yet; undefined if unknown. */
  readonly table: (name: string) => Table | undefined;
  /** now(), and what ago() counts back from (ms since the epoch). */
  readonly now: number;
}

type Row = readonly unknown[];
interface Compiled {
  readonly type: KqlType;
  readonly evaluate: (row: Row) => unknown;
  /** Set for a literal: its value, known before any row is seen. */
  readonly constant?: { readonly value: unknown };
}
interface Scope {
  readonly columns: readonly ColumnSchema[];
  readonly index: ReadonlyMap<string, number>;
  readonly operator: string;
  readonly now: number;
  /** Evaluates a tabular expression inside this one (`in ((…))`, toscalar()), with the same lets in scope. */
  readonly tabular: (query: Tabular) => Table;
}

/**
 * Runs a query; throws KqlSemanticError for an unknown table, column or function. A let's
 * name stands for its tabular expression from the next statement on, a later let of the same
 * name hiding it; each is evaluated once per query, when first used, as the query sees the
 * tables (https://learn.microsoft.com/kusto/query/let-statement).
 */
export function evaluateQuery(query: Query, context: EvaluationContext): Table {
  let scoped = context;
  for (const statement of query.lets) {
    const outer = scoped;
    let value: Table | undefined;
    scoped = {
      ...outer,
      table: (name) =>
        name === statement.name ? (value ??= evaluateTabular(statement.value, outer)) : outer.table(name),
    };
  }
  return evaluateTabular(query, scoped);
}

function evaluateTabular(query: Tabular, context: EvaluationContext): Table {
  let table = unionOf(query.tables, context);
  for (const { name, operator } of query.operators) table = applyOperator(name, operator, table, context);
  return table;
}

function unionOf(tables: readonly { name: string }[], context: EvaluationContext): Table {
  const found = tables.map(({ name }) => {
    const table = context.table(name);
    if (!table) {
      throw new KqlSemanticError(
        'SEM0100',
        `'${name}' operator: Failed to resolve table or column expression named '${name}'`,
      );
    }
    return table;
  });
  return merged(found);
}

// The union of tables: every column any has (by name, first seen first), null where a table lacks it.
function merged(tables: readonly Table[]): Table {
  if (tables.length === 1) return tables[0]!;
  const found = tables;
  const columns: ColumnSchema[] = [];
  for (const table of found)
    for (const column of table.columns)
      if (!columns.some((each) => each.name === column.name)) columns.push(column);
  const rows: Row[] = [];
  for (const table of found) {
    const positions = columns.map((column) => table.columns.findIndex((each) => each.name === column.name));
    for (const row of table.rows)
      rows.push(
        positions.map((position, index) =>
          position >= 0 ? row[position] : columns[index]!.type === 'string' ? '' : null,
        ),
      );
  }
  return { columns, rows };
}

function scopeOf(columns: readonly ColumnSchema[], operator: string, context: EvaluationContext): Scope {
  return {
    columns,
    index: new Map(columns.map((column, index) => [column.name, index])),
    operator,
    now: context.now,
    tabular: (query) => evaluateTabular(query, context),
  };
}

function applyOperator(name: string, operator: Operator, input: Table, context: EvaluationContext): Table {
  const scope = scopeOf(input.columns, name, context);
  switch (operator.kind) {
    case 'where': {
      const predicate = compile(operator.predicate, scope);
      return { columns: input.columns, rows: input.rows.filter((row) => predicate.evaluate(row) === true) };
    }
    case 'extend': {
      const columns = [...input.columns];
      const compiled = operator.items.map((item, position) => {
        const expr = compile(item.expr, scope);
        const columnName = item.name ?? derivedName(item.expr, `Column${position + 1}`);
        const existing = columns.findIndex((column) => column.name === columnName);
        if (existing >= 0) columns[existing] = { name: columnName, type: expr.type };
        else columns.push({ name: columnName, type: expr.type });
        return { at: existing >= 0 ? existing : columns.length - 1, expr };
      });
      return {
        columns,
        rows: input.rows.map((row) => {
          const out = [...row];
          for (const { at, expr } of compiled) out[at] = expr.evaluate(row);
          return out;
        }),
      };
    }
    case 'project':
    case 'distinct': {
      const compiled = operator.items.map((item, position) => ({
        name: item.name ?? derivedName(item.expr, `Column${position + 1}`),
        expr: compile(item.expr, scope),
      }));
      const columns = compiled.map(({ name: column, expr }) => ({ name: column, type: expr.type }));
      const rows = input.rows.map((row) => compiled.map(({ expr }) => expr.evaluate(row)));
      if (operator.kind === 'project') return { columns, rows };
      const seen = new Set<string>();
      return { columns, rows: rows.filter((row) => !seen.has(keyOf(row)) && Boolean(seen.add(keyOf(row)))) };
    }
    case 'project-away': {
      for (const pattern of operator.patterns)
        if (!pattern.includes('*') && !scope.index.has(pattern)) throw unresolved(name, pattern);
      const matchers = operator.patterns.map((pattern) => globOf(pattern));
      const keep = input.columns
        .map((column, index) => ({ column, index }))
        .filter(({ column }) => !matchers.some((m) => m.test(column.name)));
      return {
        columns: keep.map(({ column }) => column),
        rows: input.rows.map((row) => keep.map(({ index }) => row[index])),
      };
    }
    case 'project-rename': {
      const columns = input.columns.map((column) => {
        const rename = operator.renames.find((each) => each.from === column.name);
        return rename ? { name: rename.to, type: column.type } : column;
      });
      for (const { from } of operator.renames) if (!scope.index.has(from)) throw unresolved(name, from);
      return { columns, rows: input.rows };
    }
    case 'take':
      return { columns: input.columns, rows: input.rows.slice(0, operator.count) };
    case 'top':
      return {
        columns: input.columns,
        rows: sorted(input.rows, [operator.key], scope).slice(0, operator.count),
      };
    case 'order':
      return { columns: input.columns, rows: sorted(input.rows, operator.keys, scope) };
    case 'union':
      return merged([input, unionOf(operator.tables, context)]);
    case 'count':
      return { columns: [{ name: 'Count', type: 'long' }], rows: [[input.rows.length]] };
    case 'summarize':
      return summarize(operator.aggregates, operator.by, input, scope);
  }
}

function globOf(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function unresolved(operator: string, name: string): KqlSemanticError {
  return new KqlSemanticError(
    'SEM0100',
    `'${operator}' operator: Failed to resolve scalar expression named '${name}'`,
  );
}

// The name Kusto gives an unnamed column: a column keeps its name, bin(x, …) is named x.
function derivedName(expr: Expr, fallback: string): string {
  if (expr.kind === 'column') return expr.name;
  if (
    expr.kind === 'call' &&
    (expr.name === 'bin' || expr.name === 'floor') &&
    expr.args[0]?.kind === 'column'
  )
    return expr.args[0].name;
  if (expr.kind === 'member') {
    const target = derivedName(expr.target, '');
    return target ? `${target}_${String(expr.key)}` : fallback;
  }
  return fallback;
}

function keyOf(values: readonly unknown[]): string {
  return values
    .map((value) =>
      value === null || value === undefined
        ? '\u0000'
        : typeof value === 'object'
          ? JSON.stringify(value)
          : `${typeof value}:${String(value)}`,
    )
    .join('\u0001');
}

function sorted(rows: readonly Row[], keys: readonly SortKey[], scope: Scope): Row[] {
  const compiled = keys.map((key) => ({ ...key, expr: compile(key.expr, scope) }));
  const decorated = rows.map((row) => ({ row, values: compiled.map(({ expr }) => expr.evaluate(row)) }));
  decorated.sort((a, b) => {
    for (const [index, key] of compiled.entries()) {
      const left = a.values[index];
      const right = b.values[index];
      const leftNull = left === null || left === undefined;
      const rightNull = right === null || right === undefined;
      if (leftNull || rightNull) {
        if (leftNull && rightNull) continue;
        return leftNull === key.nullsFirst ? -1 : 1;
      }
      const order = compareValues(left, right);
      if (order !== 0) return key.descending ? -order : order;
    }
    return 0;
  });
  return decorated.map(({ row }) => row);
}

function compareValues(left: unknown, right: unknown): number {
  if (typeof left === 'number' && typeof right === 'number') return left < right ? -1 : left > right ? 1 : 0;
  if (typeof left === 'boolean' && typeof right === 'boolean') return Number(left) - Number(right);
  const a = asString(left);
  const b = asString(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- scalar expressions -------------------------------------------------------------------

const numericTypes = new Set<KqlType>(['int', 'long', 'real']);

function isNull(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

/** A value as tostring() renders it. */
export function asString(value: unknown, type?: KqlType): string {
  if (typeof value === 'string') return value;
  if (isNull(value)) return '';
  if (type === 'datetime' && typeof value === 'number') return new Date(value).toISOString();
  if (type === 'timespan' && typeof value === 'number') return formatTimespan(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A timespan as Kusto writes it: [d.]hh:mm:ss[.fffffff]. */
export function formatTimespan(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const days = Math.floor(rest / 86_400_000);
  rest -= days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const ticks = Math.round((rest - seconds * 1000) * 10_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${sign}${days > 0 ? `${days}.` : ''}${pad(hours)}:${pad(minutes)}:${pad(seconds)}${ticks > 0 ? `.${String(ticks).padStart(7, '0')}` : ''}`;
}

function toNumber(value: unknown): number | null {
  if (isNull(value)) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

// A dynamic value's property; a string holding JSON is parsed first, as parse_json would.
function member(target: unknown, key: string | number): unknown {
  let value = target;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  if (isNull(value) || typeof value !== 'object') return null;
  // A negative index counts from the end of an array: -1 is the last element
  // (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic#dynamic-object-accessors).
  if (Array.isArray(value)) {
    if (typeof key !== 'number') return null;
    return value[key < 0 ? value.length + key : key] ?? null;
  }
  const found = (value as Record<string | number, unknown>)[key];
  return found === undefined ? null : found;
}

// The value a dynamic holds, for comparison with a scalar.
function primitive(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
}

const regexCache = new Map<string, RegExp>();

// RE2 as KQL takes it: a leading (?i) (or other inline flags) becomes a JavaScript flag.
function regexOf(pattern: string): RegExp {
  let regex = regexCache.get(pattern);
  if (!regex) {
    const flags = /^\(\?([imsU]+)\)/.exec(pattern);
    const body = flags ? pattern.slice(flags[0].length) : pattern;
    const jsFlags = (flags?.[1] ?? '').replace(/U/g, '').replace(/m/g, 'm');
    regex = new RegExp(body, [...new Set(jsFlags)].join('') + 'u');
    regexCache.set(pattern, regex);
  }
  return regex;
}

const aggregateNames = new Set([
  'count',
  'countif',
  'dcount',
  'dcountif',
  'sum',
  'sumif',
  'avg',
  'avgif',
  'min',
  'max',
  'minif',
  'maxif',
  'percentile',
  'arg_max',
  'arg_min',
  'take_any',
  'any',
]);

function compile(expr: Expr, scope: Scope): Compiled {
  switch (expr.kind) {
    case 'literal': {
      const value = expr.value;
      const type: KqlType = expr.type === 'null' ? 'string' : expr.type;
      return { type, evaluate: () => value, constant: { value } };
    }
    case 'column': {
      const index = scope.index.get(expr.name);
      if (index === undefined) throw unresolved(scope.operator, expr.name);
      return { type: scope.columns[index]!.type, evaluate: (row) => row[index] };
    }
    case 'star':
      throw new KqlSemanticError(
        'SEM0001',
        `'${scope.operator}' operator: '*' is only allowed in arg_max() and arg_min()`,
      );
    case 'member': {
      const target = compile(expr.target, scope);
      return { type: 'dynamic', evaluate: (row) => member(target.evaluate(row), expr.key) };
    }
    case 'unary': {
      const operand = compile(expr.operand, scope);
      return {
        type: operand.type,
        evaluate: (row) => {
          const value = toNumber(operand.evaluate(row));
          return value === null ? null : expr.op === '-' ? -value : value;
        },
      };
    }
    case 'in': {
      const left = compile(expr.left, scope);
      const list = expr.list.map((item) =>
        item.kind === 'tabular' ? firstColumn(item, scope) : compile(item, scope),
      );
      const normalize = (value: unknown) => {
        const plain = primitive(value);
        return expr.caseInsensitive && typeof plain === 'string' ? plain.toLowerCase() : plain;
      };
      const constant = list.every((item) => item.constant);
      const fixed = constant
        ? new Set(list.flatMap((item) => flatten(item.constant!.value)).map(normalize))
        : undefined;
      return {
        type: 'bool',
        evaluate: (row) => {
          const value = left.evaluate(row);
          if (isNull(value)) return expr.negate ? true : false;
          if (fixed && typeof value === 'string' && !expr.caseInsensitive)
            return fixed.has(value) !== expr.negate;
          const candidates =
            fixed ?? new Set(list.flatMap((item) => flatten(item.evaluate(row))).map(normalize));
          const found = candidates.has(normalize(value));
          return expr.negate ? !found : found;
        },
      };
    }
    case 'hasAny': {
      const left = compile(expr.left, scope);
      const list = expr.list.map((item) => compile(item, scope));
      const hasTerm = stringOperatorTest('has')!;
      const fixed = list.every((item) => item.constant)
        ? list.flatMap((item) => flatten(item.constant!.value)).map((needle) => hasTerm(asString(needle)))
        : undefined;
      return {
        type: 'bool',
        evaluate: (row) => {
          const text = asString(left.evaluate(row), left.type);
          const tests =
            fixed ??
            list.flatMap((item) => flatten(item.evaluate(row))).map((needle) => hasTerm(asString(needle)));
          return tests.some((matches) => matches(text));
        },
      };
    }
    case 'tabular':
      throw new KqlSemanticError(
        'SEM0001',
        `'${scope.operator}' operator: a tabular expression is only allowed in 'in' and toscalar()`,
      );
    case 'binary':
      return compileBinary(expr.op, compile(expr.left, scope), compile(expr.right, scope), scope);
    case 'call':
      if (aggregateNames.has(expr.name)) {
        throw new KqlSemanticError(
          'SEM0002',
          `'${scope.operator}' operator: aggregate function '${expr.name}' is only allowed in summarize`,
        );
      }
      return compileCall(expr, scope);
  }
}

/**
 * The values of a tabular expression's first column, evaluated once: `in` uses only the first
 * column of a tabular expression (https://learn.microsoft.com/kusto/query/in-cs-operator).
 */
function firstColumn(item: Extract<Expr, { kind: 'tabular' }>, scope: Scope): Compiled {
  const table = scope.tabular(item.query);
  const values = table.rows.map((row) => row[0] ?? null);
  return { type: table.columns[0]?.type ?? 'dynamic', evaluate: () => values, constant: { value: values } };
}

function flatten(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function compileBinary(op: string, left: Compiled, right: Compiled, scope: Scope): Compiled {
  const bool = (test: (a: unknown, b: unknown) => boolean, nullResult: boolean | null = false): Compiled => ({
    type: 'bool',
    evaluate: (row) => {
      const a = left.evaluate(row);
      const b = right.evaluate(row);
      if (isNull(a) || isNull(b)) return nullResult;
      return test(a, b);
    },
  });
  const stringTest = stringOperatorTest(op);
  if (stringTest) return stringOperator(stringTest, left, right);
  switch (op) {
    case 'and':
      return { type: 'bool', evaluate: (row) => left.evaluate(row) === true && right.evaluate(row) === true };
    case 'or':
      return { type: 'bool', evaluate: (row) => left.evaluate(row) === true || right.evaluate(row) === true };
    case '==':
      return left.type === 'string' && right.type === 'string'
        ? bool((a, b) => a === b)
        : bool((a, b) => equal(a, b));
    case '!=':
    case '<>':
      return left.type === 'string' && right.type === 'string'
        ? bool((a, b) => a !== b)
        : bool((a, b) => !equal(a, b));
    case '<':
      return bool((a, b) => compareValues(primitive(a), primitive(b)) < 0);
    case '<=':
      return bool((a, b) => compareValues(primitive(a), primitive(b)) <= 0);
    case '>':
      return bool((a, b) => compareValues(primitive(a), primitive(b)) > 0);
    case '>=':
      return bool((a, b) => compareValues(primitive(a), primitive(b)) >= 0);
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return arithmetic(op, left, right);
    default:
      throw new KqlSemanticError('SEM0001', `'${scope.operator}' operator: unknown operator '${op}'`);
  }
}

// A string operator's test, built once per right-hand value: a literal's at compile time.
function stringOperator(
  test: (needle: string) => (text: string) => boolean,
  left: Compiled,
  right: Compiled,
): Compiled {
  const textOf = (row: Row) => asString(left.evaluate(row), left.type);
  if (right.constant) {
    const matches = test(asString(right.constant.value, right.type));
    return { type: 'bool', evaluate: (row) => matches(textOf(row)) };
  }
  const built = new Map<string, (text: string) => boolean>();
  return {
    type: 'bool',
    evaluate: (row) => {
      const needle = asString(right.evaluate(row), right.type);
      let matches = built.get(needle);
      if (!matches) built.set(needle, (matches = test(needle)));
      return matches(textOf(row));
    },
  };
}

// A letter or digit: what a term is made of.
const termCharacter = '[\\p{L}\\p{N}]';

/**
 * The string operators (https://learn.microsoft.com/kusto/query/datatypes-string-operators):
 * `has` matches whole terms (runs of letters and digits), `contains` any substring; both,
 * like `=~`, `startswith` and `endswith`, ignore case unless suffixed `_cs`; `!` negates.
 */
function stringOperatorTest(op: string): ((needle: string) => (text: string) => boolean) | undefined {
  const negate = op.startsWith('!') && op !== '!~';
  const base = negate ? op.slice(1) : op;
  const test = ((): ((needle: string) => (text: string) => boolean) | undefined => {
    switch (base) {
      case '=~':
      case '!~': {
        const equalIgnoringCase = (needle: string) => {
          const lowered = needle.toLowerCase();
          return (text: string) =>
            text.length === lowered.length && (text === needle || text.toLowerCase() === lowered);
        };
        if (base === '=~') return equalIgnoringCase;
        return (needle) => {
          const equal = equalIgnoringCase(needle);
          return (text) => !equal(text);
        };
      }
      case 'has':
      case 'has_cs':
        return (needle) => {
          if (needle === '') return () => true;
          const edge = (char: string) => new RegExp(termCharacter, 'u').test(char);
          const before = edge(needle[0]!) ? `(?<!${termCharacter})` : '';
          const after = edge(needle[needle.length - 1]!) ? `(?!${termCharacter})` : '';
          const regex = new RegExp(`${before}${escapeRegex(needle)}${after}`, base === 'has' ? 'iu' : 'u');
          return (text) => regex.test(text);
        };
      case 'hasprefix':
        return (needle) => {
          const regex = new RegExp(`(?<!${termCharacter})${escapeRegex(needle)}`, 'iu');
          return (text) => regex.test(text);
        };
      case 'hassuffix':
        return (needle) => {
          const regex = new RegExp(`${escapeRegex(needle)}(?!${termCharacter})`, 'iu');
          return (text) => regex.test(text);
        };
      case 'contains':
        return (needle) => {
          const regex = new RegExp(escapeRegex(needle), 'i');
          return (text) => regex.test(text);
        };
      case 'contains_cs':
        return (needle) => (text) => text.includes(needle);
      case 'startswith':
        return (needle) => {
          const regex = new RegExp(`^${escapeRegex(needle)}`, 'i');
          return (text) => regex.test(text);
        };
      case 'startswith_cs':
        return (needle) => (text) => text.startsWith(needle);
      case 'endswith':
        return (needle) => {
          const regex = new RegExp(`${escapeRegex(needle)}$`, 'i');
          return (text) => regex.test(text);
        };
      case 'endswith_cs':
        return (needle) => (text) => text.endsWith(needle);
      case 'matches regex':
        return (needle) => {
          const regex = regexOf(needle);
          return (text) => regex.test(text);
        };
      default:
        return undefined;
    }
  })();
  if (!test || !negate) return test;
  return (needle) => {
    const matches = test(needle);
    return (text) => !matches(text);
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function equal(a: unknown, b: unknown): boolean {
  const left = primitive(a);
  const right = primitive(b);
  if (typeof left === 'number' || typeof right === 'number') return toNumber(left) === toNumber(right);
  if (typeof left === 'boolean' || typeof right === 'boolean') {
    const truth = (value: unknown) =>
      typeof value === 'string' ? value.toLowerCase() === 'true' : value === true;
    return truth(left) === truth(right);
  }
  return left === right;
}

// The result type of arithmetic, as Kusto types it: datetime - datetime is a timespan,
// datetime ± timespan a datetime, integers stay integers (and divide truncating), else real.
function arithmeticType(op: string, left: KqlType, right: KqlType): KqlType {
  if (left === 'datetime' && right === 'datetime' && op === '-') return 'timespan';
  if (left === 'datetime' || right === 'datetime') return 'datetime';
  if (left === 'timespan' || right === 'timespan') {
    return op === '/' && left === 'timespan' && right === 'timespan' ? 'real' : 'timespan';
  }
  if (left === 'real' || right === 'real' || left === 'dynamic' || right === 'dynamic') return 'real';
  if (numericTypes.has(left) && numericTypes.has(right))
    return left === 'int' && right === 'int' ? 'int' : 'long';
  return 'real';
}

function arithmetic(op: string, left: Compiled, right: Compiled): Compiled {
  const type = arithmeticType(op, left.type, right.type);
  const integer = type === 'int' || type === 'long';
  return {
    type,
    evaluate: (row) => {
      const a = toNumber(left.evaluate(row));
      const b = toNumber(right.evaluate(row));
      if (a === null || b === null) return null;
      switch (op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          if (integer) return b === 0 ? null : Math.trunc(a / b);
          return a / b;
        default:
          if (b === 0) return null;
          return a % b;
      }
    },
  };
}

function expectArgs(
  call: Extract<Expr, { kind: 'call' }>,
  minimum: number,
  maximum: number,
  scope: Scope,
): void {
  if (call.args.length < minimum || call.args.length > maximum) {
    throw new KqlSemanticError(
      'SEM0219',
      `'${scope.operator}' operator: function '${call.name}' expects ${minimum === maximum ? minimum : `${minimum} to ${maximum}`} arguments`,
    );
  }
}

function compileCall(call: Extract<Expr, { kind: 'call' }>, scope: Scope): Compiled {
  if (call.name === 'toscalar') return toscalar(call, scope);
  const args = call.args.map((arg) => compile(arg, scope));
  const arity = (minimum: number, maximum = minimum) => expectArgs(call, minimum, maximum, scope);
  const first = args[0]!;
  switch (call.name) {
    case 'strcat':
      arity(1, 64);
      return {
        type: 'string',
        evaluate: (row) => args.map((arg) => asString(arg.evaluate(row), arg.type)).join(''),
      };
    case 'tostring':
      arity(1);
      return { type: 'string', evaluate: (row) => asString(first.evaluate(row), first.type) };
    case 'toint':
    case 'tolong':
      arity(1);
      return {
        type: call.name === 'toint' ? 'int' : 'long',
        evaluate: (row) => {
          const value = toNumber(primitive(first.evaluate(row)));
          return value === null ? null : Math.trunc(value);
        },
      };
    case 'todouble':
    case 'toreal':
      arity(1);
      return { type: 'real', evaluate: (row) => toNumber(primitive(first.evaluate(row))) };
    case 'tobool':
      arity(1);
      return {
        type: 'bool',
        evaluate: (row) => {
          const value = primitive(first.evaluate(row));
          if (typeof value === 'boolean') return value;
          if (typeof value === 'number') return value !== 0;
          if (typeof value === 'string' && /^(true|false)$/i.test(value))
            return value.toLowerCase() === 'true';
          return null;
        },
      };
    case 'tolower':
    case 'toupper':
      arity(1);
      return {
        type: 'string',
        evaluate: (row) => {
          const value = asString(first.evaluate(row), first.type);
          return call.name === 'tolower' ? value.toLowerCase() : value.toUpperCase();
        },
      };
    case 'strlen':
      arity(1);
      return { type: 'long', evaluate: (row) => asString(first.evaluate(row), first.type).length };
    case 'parse_json':
    case 'todynamic':
      arity(1);
      return {
        type: 'dynamic',
        evaluate: (row) => {
          const value = first.evaluate(row);
          if (typeof value !== 'string') return value ?? null;
          try {
            return JSON.parse(value) as unknown;
          } catch {
            return value;
          }
        },
      };
    case 'round':
      arity(1, 2);
      return {
        type: first.type === 'int' || first.type === 'long' ? first.type : 'real',
        evaluate: (row) => {
          const value = toNumber(first.evaluate(row));
          const digits = args[1] ? (toNumber(args[1].evaluate(row)) ?? 0) : 0;
          if (value === null) return null;
          if (!Number.isFinite(value)) return value;
          const factor = 10 ** digits;
          // Away from zero at the midpoint, as .NET's MidpointRounding.AwayFromZero that Kusto uses.
          return (Math.sign(value) * Math.round(Math.abs(value) * factor + Number.EPSILON)) / factor;
        },
      };
    case 'abs':
      arity(1);
      return {
        type: first.type,
        evaluate: (row) => {
          const v = toNumber(first.evaluate(row));
          return v === null ? null : Math.abs(v);
        },
      };
    case 'iff':
    case 'iif':
      arity(3);
      return {
        type: args[1]!.type,
        evaluate: (row) => (first.evaluate(row) === true ? args[1]!.evaluate(row) : args[2]!.evaluate(row)),
      };
    case 'coalesce':
      arity(2, 64);
      return {
        type: first.type,
        evaluate: (row) => {
          for (const arg of args) {
            const value = arg.evaluate(row);
            if (!isNull(value) && !(arg.type === 'string' && value === '')) return value;
          }
          return null;
        },
      };
    case 'isempty':
    case 'isnotempty':
      arity(1);
      return {
        type: 'bool',
        evaluate: (row) => {
          const value = first.evaluate(row);
          const empty = isNull(value) || value === '';
          return call.name === 'isempty' ? empty : !empty;
        },
      };
    case 'isnull':
    case 'isnotnull':
      arity(1);
      return {
        type: 'bool',
        evaluate: (row) => {
          const value = first.evaluate(row);
          const missing =
            isNull(value) || (typeof value === 'number' && Number.isNaN(value) && first.type !== 'real');
          return call.name === 'isnull' ? missing : !missing;
        },
      };
    case 'not':
      arity(1);
      return {
        type: 'bool',
        evaluate: (row) => {
          const value = first.evaluate(row);
          return isNull(value) ? null : value !== true;
        },
      };
    case 'now':
      arity(0, 1);
      return {
        type: 'datetime',
        evaluate: (row) => scope.now + (args[0] ? (toNumber(args[0].evaluate(row)) ?? 0) : 0),
      };
    case 'ago':
      arity(1);
      return {
        type: 'datetime',
        evaluate: (row) => {
          const span = toNumber(first.evaluate(row));
          return span === null ? null : scope.now - span;
        },
      };
    case 'bin':
    case 'floor':
      arity(2);
      return {
        type: first.type,
        evaluate: (row) => {
          const value = toNumber(first.evaluate(row));
          const size = toNumber(args[1]!.evaluate(row));
          if (value === null || size === null || size <= 0) return null;
          return Math.floor(value / size) * size;
        },
      };
    case 'extract':
      arity(3);
      return {
        type: 'string',
        evaluate: (row) => {
          const match = regexOf(asString(first.evaluate(row))).exec(
            asString(args[2]!.evaluate(row), args[2]!.type),
          );
          const group = toNumber(args[1]!.evaluate(row)) ?? 0;
          return match?.[group] ?? null;
        },
      };
    case 'split':
      // An array of the parts; with requestedIndex, an array of that part alone, or empty when there is none
      // (https://learn.microsoft.com/kusto/query/split-function).
      arity(2, 3);
      return {
        type: 'dynamic',
        evaluate: (row) => {
          const parts = asString(first.evaluate(row), first.type).split(asString(args[1]!.evaluate(row)));
          if (!args[2]) return parts;
          const index = toNumber(args[2].evaluate(row));
          const part = index === null ? undefined : parts[index];
          return part === undefined ? [] : [part];
        },
      };
    case 'substring':
      arity(2, 3);
      return {
        type: 'string',
        evaluate: (row) => {
          const text = asString(first.evaluate(row), first.type);
          const start = toNumber(args[1]!.evaluate(row)) ?? 0;
          const length = args[2] ? (toNumber(args[2].evaluate(row)) ?? undefined) : undefined;
          return length === undefined ? text.slice(start) : text.slice(start, start + length);
        },
      };
    default:
      throw new KqlSemanticError(
        'SEM0219',
        `'${scope.operator}' operator: Unknown function: '${call.name}'.`,
      );
  }
}

/**
 * toscalar(): a tabular expression's first column of its first row (null when it has none), or
 * a scalar's value, computed once per query
 * (https://learn.microsoft.com/kusto/query/toscalar-function).
 */
function toscalar(call: Extract<Expr, { kind: 'call' }>, scope: Scope): Compiled {
  expectArgs(call, 1, 1, scope);
  const arg = call.args[0]!;
  if (arg.kind === 'tabular') {
    const table = scope.tabular(arg.query);
    const value = table.rows[0]?.[0] ?? null;
    return { type: table.columns[0]?.type ?? 'dynamic', evaluate: () => value, constant: { value } };
  }
  const compiled = compile(arg, scope);
  if (!compiled.constant) {
    throw new KqlSemanticError(
      'SEM0001',
      "'toscalar': can't use a column here, as it is defined outside its row-context scope",
    );
  }
  return compiled;
}

// ---- summarize ----------------------------------------------------------------------------

interface Aggregate {
  readonly type: KqlType;
  readonly start: () => unknown;
  readonly add: (state: unknown, row: Row) => unknown;
  readonly result: (state: unknown) => unknown;
}

/** The values an aggregate of no rows gives: counts and sums are 0, everything else null. */
function compileAggregate(call: Extract<Expr, { kind: 'call' }>, scope: Scope): Aggregate {
  const arity = (minimum: number, maximum = minimum) => expectArgs(call, minimum, maximum, scope);
  const args = call.args.map((arg) => (arg.kind === 'star' ? undefined : compile(arg, scope)));
  const value = args[0];
  const condition = (index: number) => {
    const compiled = args[index];
    return compiled ? (row: Row) => compiled.evaluate(row) === true : () => true;
  };
  switch (call.name) {
    case 'count':
    case 'countif': {
      if (call.name === 'count') arity(0, 1);
      else arity(1);
      const when = call.name === 'countif' ? condition(0) : () => true;
      return {
        type: 'long',
        start: () => 0,
        add: (state, row) => (when(row) ? (state as number) + 1 : state),
        result: (state) => state,
      };
    }
    case 'dcount':
    case 'dcountif': {
      arity(call.name === 'dcount' ? 1 : 2, call.name === 'dcount' ? 2 : 3);
      const when = call.name === 'dcountif' ? condition(1) : () => true;
      // Kusto estimates dcount with HyperLogLog; for the few values a test holds, the estimate is exact.
      return {
        type: 'long',
        start: () => new Set<string>(),
        add: (state, row) => {
          const item = value!.evaluate(row);
          if (!isNull(item) && when(row)) (state as Set<string>).add(keyOf([item]));
          return state;
        },
        result: (state) => (state as Set<string>).size,
      };
    }
    case 'sum':
    case 'sumif':
    case 'avg':
    case 'avgif': {
      const conditional = call.name.endsWith('if');
      arity(conditional ? 2 : 1);
      const when = conditional ? condition(1) : () => true;
      const average = call.name.startsWith('avg');
      const type: KqlType = average
        ? 'real'
        : value!.type === 'int' || value!.type === 'long'
          ? 'long'
          : value!.type === 'timespan'
            ? 'timespan'
            : 'real';
      return {
        type,
        start: () => ({ total: 0, count: 0 }),
        add: (state, row) => {
          const number = toNumber(value!.evaluate(row));
          if (number !== null && when(row)) {
            const s = state as { total: number; count: number };
            s.total += number;
            s.count += 1;
          }
          return state;
        },
        result: (state) => {
          const s = state as { total: number; count: number };
          return average ? (s.count === 0 ? null : s.total / s.count) : s.total;
        },
      };
    }
    case 'min':
    case 'max':
    case 'minif':
    case 'maxif': {
      const conditional = call.name.endsWith('if');
      arity(conditional ? 2 : 1);
      const when = conditional ? condition(1) : () => true;
      const sign = call.name.startsWith('max') ? 1 : -1;
      return {
        type: value!.type,
        start: () => null,
        add: (state, row) => {
          const item = value!.evaluate(row);
          if (isNull(item) || !when(row)) return state;
          return state === null || compareValues(item, state) * sign > 0 ? item : state;
        },
        result: (state) => state,
      };
    }
    case 'take_any':
    case 'any':
      arity(1);
      return {
        type: value!.type,
        start: () => null,
        add: (state, row) => state ?? value!.evaluate(row) ?? null,
        result: (state) => state,
      };
    case 'percentile': {
      arity(2);
      const percent = toNumber(args[1]!.evaluate([])) ?? 50;
      return {
        type: value!.type === 'int' || value!.type === 'long' ? 'long' : value!.type,
        start: () => [] as number[],
        add: (state, row) => {
          const number = toNumber(value!.evaluate(row));
          if (number !== null) (state as number[]).push(number);
          return state;
        },
        // Nearest rank: the smallest value with at least `percent` % of the values at or below it
        // (https://learn.microsoft.com/kusto/query/percentiles-aggregation-function).
        result: (state) => {
          const values = (state as number[]).sort((a, b) => a - b);
          if (values.length === 0) return null;
          const rank = Math.max(1, Math.ceil((percent / 100) * values.length));
          return values[rank - 1]!;
        },
      };
    }
    default:
      throw new KqlSemanticError(
        'SEM0219',
        `'${scope.operator}' operator: Unknown function: '${call.name}'.`,
      );
  }
}

// Replaces every aggregate call in an expression by a column of the aggregates' row.
function liftAggregates(expr: Expr, found: Extract<Expr, { kind: 'call' }>[]): Expr {
  switch (expr.kind) {
    case 'call':
      if (aggregateNames.has(expr.name)) {
        found.push(expr);
        return { kind: 'column', name: `\u0000aggregate${found.length - 1}`, offset: expr.offset };
      }
      return { ...expr, args: expr.args.map((arg) => liftAggregates(arg, found)) };
    case 'binary':
      return { ...expr, left: liftAggregates(expr.left, found), right: liftAggregates(expr.right, found) };
    case 'unary':
      return { ...expr, operand: liftAggregates(expr.operand, found) };
    case 'member':
      return { ...expr, target: liftAggregates(expr.target, found) };
    case 'in':
      return {
        ...expr,
        left: liftAggregates(expr.left, found),
        list: expr.list.map((item) => liftAggregates(item, found)),
      };
    case 'hasAny':
      return {
        ...expr,
        left: liftAggregates(expr.left, found),
        list: expr.list.map((item) => liftAggregates(item, found)),
      };
    default:
      return expr;
  }
}

// The name Kusto gives an unnamed aggregate: count_, sum_x, percentile_x_95, countif_.
function aggregateName(call: Extract<Expr, { kind: 'call' }>): string {
  const argument = call.args[0]?.kind === 'column' ? call.args[0].name : '';
  if (call.name === 'percentile') {
    const percent = call.args[1]?.kind === 'literal' ? String(call.args[1].value) : '';
    return `percentile_${argument}_${percent}`;
  }
  if (call.name === 'count' || call.name.endsWith('if')) return `${call.name}_`;
  return `${call.name}_${argument}`;
}

function summarize(items: readonly NamedExpr[], by: readonly NamedExpr[], input: Table, scope: Scope): Table {
  const keys = by.map((item, position) => ({
    name: item.name ?? derivedName(item.expr, `Column${position + 1}`),
    expr: compile(item.expr, scope),
  }));
  const calls: Extract<Expr, { kind: 'call' }>[] = [];
  const argExtremes: { by: Compiled; sign: number; take: { name: string; expr: Compiled }[] }[] = [];
  // Each output is either an expression over aggregates (lifted) or an arg_max/arg_min (extreme).
  const outputs: ({ name: string; lifted: Expr } | { columns: ColumnSchema[]; extreme: number })[] = [];
  for (const [position, item] of items.entries()) {
    const expr = item.expr;
    if (expr.kind === 'call' && (expr.name === 'arg_max' || expr.name === 'arg_min')) {
      expectArgs(expr, 2, 64, scope);
      const byExpr = compile(expr.args[0]!, scope);
      const byName = item.name ?? derivedName(expr.args[0]!, `${expr.name === 'arg_max' ? 'max' : 'min'}_`);
      const taken = expr.args.slice(1).flatMap((arg) =>
        arg.kind === 'star'
          ? scope.columns
              .filter((column) => column.name !== byName && !keys.some((key) => key.name === column.name))
              .map((column) => ({
                name: column.name,
                expr: compile({ kind: 'column', name: column.name, offset: 0 }, scope),
              }))
          : [{ name: derivedName(arg, `Column${position + 1}`), expr: compile(arg, scope) }],
      );
      argExtremes.push({ by: byExpr, sign: expr.name === 'arg_max' ? 1 : -1, take: taken });
      outputs.push({
        columns: [
          { name: byName, type: byExpr.type },
          ...taken.map(({ name, expr: each }) => ({ name, type: each.type })),
        ],
        extreme: argExtremes.length - 1,
      });
      continue;
    }
    const before = calls.length;
    const lifted = liftAggregates(expr, calls);
    if (calls.length === before) {
      throw new KqlSemanticError(
        'SEM0001',
        `'summarize' operator: the expression of column ${item.name ?? position + 1} must hold an aggregate function`,
      );
    }
    outputs.push({
      name: item.name ?? (expr.kind === 'call' ? aggregateName(expr) : `Column${position + 1}`),
      lifted,
    });
  }
  const aggregates = calls.map((call) => compileAggregate(call, scope));
  const aggregateScope: Scope = {
    columns: aggregates.map((aggregate, index) => ({
      name: `\u0000aggregate${index}`,
      type: aggregate.type,
    })),
    index: new Map(aggregates.map((_, index) => [`\u0000aggregate${index}`, index])),
    operator: 'summarize',
    now: scope.now,
    tabular: scope.tabular,
  };
  const finals = outputs.map((output) =>
    'lifted' in output
      ? { kind: 'expression' as const, name: output.name, compiled: compile(output.lifted, aggregateScope) }
      : { kind: 'extreme' as const, columns: output.columns, extreme: output.extreme },
  );

  interface Group {
    readonly key: unknown[];
    readonly states: unknown[];
    readonly extremes: { value: unknown; row: Row | null }[];
  }
  const groups: Group[] = [];
  const newGroup = (key: unknown[]): Group => {
    const group = {
      key,
      states: aggregates.map((aggregate) => aggregate.start()),
      extremes: argExtremes.map(() => ({ value: null, row: null })),
    };
    groups.push(group);
    return group;
  };
  // Groups are found through one map per key column, by each key's value: hot loops over
  // 100 000 rows build no key string nor array per row.
  const groupIndex = new Map<unknown, unknown>();
  const groupOf = (row: Row): Group => {
    let level = groupIndex;
    for (let at = 0; at < keys.length - 1; at += 1) {
      const value = mapKey(keys[at]!.expr.evaluate(row));
      let next = level.get(value) as Map<unknown, unknown> | undefined;
      if (!next) level.set(value, (next = new Map()));
      level = next;
    }
    const last = keys.length > 0 ? mapKey(keys[keys.length - 1]!.expr.evaluate(row)) : '';
    let group = level.get(last) as Group | undefined;
    if (!group) level.set(last, (group = newGroup(keys.map(({ expr }) => expr.evaluate(row)))));
    return group;
  };
  for (const row of input.rows) {
    const group = groupOf(row);
    for (let at = 0; at < aggregates.length; at += 1)
      group.states[at] = aggregates[at]!.add(group.states[at], row);
    for (let at = 0; at < argExtremes.length; at += 1) {
      const extreme = argExtremes[at]!;
      const value = extreme.by.evaluate(row);
      const current = group.extremes[at]!;
      if (isNull(value)) {
        current.row ??= row;
        continue;
      }
      if (isNull(current.value) || compareValues(value, current.value) * extreme.sign > 0) {
        current.value = value;
        current.row = row;
      }
    }
  }
  if (groups.length === 0 && keys.length === 0) newGroup([]);

  const columns: ColumnSchema[] = [
    ...keys.map(({ name, expr }) => ({ name, type: expr.type })),
    ...finals.flatMap((final) =>
      final.kind === 'expression' ? [{ name: final.name, type: final.compiled.type }] : final.columns,
    ),
  ];
  const rows = groups.map((group) => {
    const results = aggregates.map((aggregate, index) => aggregate.result(group.states[index]));
    return [
      ...group.key,
      ...finals.flatMap((final) => {
        if (final.kind === 'expression') return [final.compiled.evaluate(results)];
        const extreme = argExtremes[final.extreme]!;
        const chosen = group.extremes[final.extreme]!;
        return [
          chosen.value,
          ...extreme.take.map(({ expr }) => (chosen.row ? expr.evaluate(chosen.row) : null)),
        ];
      }),
    ];
  });
  return { columns: uniqueNames(columns), rows };
}

// A group key's value as a map key: equal values the same key, a dynamic value by its JSON.
function mapKey(value: unknown): unknown {
  if (value === undefined) return null;
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
}

// Kusto renames a repeated column name by adding a number: Name, Name1.
function uniqueNames(columns: readonly ColumnSchema[]): ColumnSchema[] {
  const seen = new Map<string, number>();
  return columns.map((column) => {
    const times = seen.get(column.name) ?? 0;
    seen.set(column.name, times + 1);
    return times === 0 ? column : { name: `${column.name}${times}`, type: column.type };
  });
}
