import { TaskError, TaskErrors } from '../shared/task-error';

/**
 * The healthThresholds grammar, parsed when the inputs are read. One threshold per line:
 *
 *     failedRatePercent <= 1                               (a pass line only)
 *     failedRatePercent: pass <= 1, warn <= 3, weight 2    (pass and warning lines, a weight)
 *     p95DurationMs: pass <= +10%, warn <= +25%            (relative to the previous release)
 *
 * Lines without a colon may hold several pass-only thresholds separated by commas, as the
 * input always allowed. Every problem is one line naming the input, its line, and the fix.
 */

/** How a value is compared with its limit. */
export type Operator = '<=' | '<' | '>=' | '>';

/** One side of a threshold: a number, or a change against the previous release's value in percent. */
export interface Limit {
  readonly operator: Operator;
  /** The limit itself, or with `relative` the allowed change in percent (+10 for "+10%"). */
  readonly value: number;
  readonly relative: boolean;
}

/** A metric's threshold, as written on one line. */
export interface MetricThreshold {
  readonly metric: string;
  /** The line of healthThresholds it was written on, from 1. */
  readonly line: number;
  readonly pass: Limit;
  readonly warn?: Limit;
  /** How much its outcome counts in the score; 1 unless given. */
  readonly weight: number;
}

/** What the parser needs to know about the metric names it meets. */
export interface ThresholdNames {
  /** The metrics the gate knows by name (the catalog). */
  readonly catalog: readonly string[];
  /** True when a custom healthQuery is set: any other name is one of its columns. */
  readonly customQuery: boolean;
}

const operators: readonly string[] = ['<=', '<', '>=', '>'];
const example = 'for example failedRatePercent: pass <= 1, warn <= 3, weight 2';

/** Parses healthThresholds. Throws a TaskError per problem (several as TaskErrors). */
export function parseThresholds(text: string, names: ThresholdNames): MetricThreshold[] {
  const thresholds: MetricThreshold[] = [];
  const problems: TaskError[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const written = raw.trim();
    if (written === '' || written.startsWith('#')) return;
    const problem = (what: Problem) =>
      problems.push(
        typeof what === 'string'
          ? new TaskError('HealthThresholdInvalid', [line, written, what])
          : new TaskError(what.key, [line, written, ...what.args]),
      );
    const parsed = written.includes(':') ? [parseScored(written)] : written.split(/[,;]/).map(parsePassOnly);
    for (const each of parsed) {
      if (typeof each === 'string') {
        problem(each);
        continue;
      }
      const threshold = { ...each, line };
      const wrong: Problem | undefined = checkThreshold(threshold, names) ?? duplicate(threshold, thresholds);
      if (wrong) problem(wrong);
      else thresholds.push(threshold);
    }
  });
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new TaskErrors(problems);
  return thresholds;
}

type Parsed = Omit<MetricThreshold, 'line'>;

/** What is wrong with a line: the fix in words, or a message of its own when its parts are quoted separately. */
type Problem = string | { readonly key: string; readonly args: readonly string[] };

// "failedRatePercent <= 1": the form the input always took.
function parsePassOnly(piece: string): Parsed | string {
  const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*([<>=!~]+)\s*(\S.*?)\s*$/.exec(piece);
  if (!match) return `write a metric, an operator (<=, <, >=, >) and a limit, ${example}`;
  const limit = parseLimit(match[2], match[3]);
  return typeof limit === 'string' ? limit : { metric: match[1] as string, pass: limit, weight: 1 };
}

// "failedRatePercent: pass <= 1, warn <= 3, weight 2".
function parseScored(written: string): Parsed | string {
  const [name, rest] = [
    written.slice(0, written.indexOf(':')).trim(),
    written.slice(written.indexOf(':') + 1),
  ];
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    return `'${name}' is not a metric name; start the line with one, ${example}`;
  let pass: Limit | undefined;
  let warn: Limit | undefined;
  let weight = 1;
  for (const clause of rest.split(',').map((part) => part.trim())) {
    const match = /^(pass|warn|weight)\b\s*(.*)$/i.exec(clause);
    if (!match) return `'${clause}' is not a pass, warn or weight clause; ${example}`;
    const word = (match[1] as string).toLowerCase();
    const body = (match[2] as string).trim();
    if (word === 'weight') {
      weight = /^\d+(\.\d+)?$/.test(body) ? Number(body) : NaN;
      if (!(weight > 0)) return `the weight '${body}' must be a positive number, for example weight 2`;
      continue;
    }
    const operator = /^([<>=!~]+)\s*(\S.*)$/.exec(body);
    if (!operator) return `the ${word} clause needs an operator and a limit, for example ${word} <= 1`;
    const limit = parseLimit(operator[1] as string, (operator[2] as string).trim());
    if (typeof limit === 'string') return limit;
    if (word === 'pass') pass = limit;
    else warn = limit;
  }
  if (!pass) return `a pass line is required, ${example}`;
  return { metric: name, pass, ...(warn ? { warn } : {}), weight };
}

function parseLimit(operator: string, text: string): Limit | string {
  if (!operators.includes(operator)) return `'${operator}' is not an operator; use <=, <, >= or >`;
  const relative = /^([-+])(\d+(?:\.\d+)?)%$/.exec(text);
  if (relative)
    return {
      operator: operator as Operator,
      value: Number(relative[2]) * (relative[1] === '-' ? -1 : 1),
      relative: true,
    };
  if (/^\d+(?:\.\d+)?%$/.test(text))
    return `the limit '${text}' needs a sign to be relative to the previous release, such as +10%; or give a plain number such as ${text.slice(0, -1)}`;
  if (/^-?\d+(?:\.\d+)?$/.test(text))
    return { operator: operator as Operator, value: Number(text), relative: false };
  return `the limit '${text}' is not a number or a change such as +10%`;
}

function checkThreshold(threshold: Parsed, names: ThresholdNames): Problem | undefined {
  const { metric, pass, warn } = threshold;
  const known = names.catalog.includes(metric);
  // Its own message: the list of names is an argument of its own, so that quoting the line never cuts it.
  if (!known && !names.customQuery)
    return { key: 'HealthThresholdUnknownMetric', args: [metric, names.catalog.join(', '), metric] };
  if (!known && (pass.relative || warn?.relative))
    return `'${metric}' comes from healthQuery, which has no previous release to compare with; give it a plain limit such as ${metric} <= 5, or use a metric the gate knows`;
  if (!warn) return undefined;
  const upper = (limit: Limit) => limit.operator.startsWith('<');
  if (upper(pass) !== upper(warn))
    return `pass ${pass.operator} and warn ${warn.operator} point different ways; write both with < or <=, or both with > or >=`;
  if (pass.relative === warn.relative && (upper(pass) ? warn.value < pass.value : warn.value > pass.value))
    return `the warn line ${describeLimit(warn)} is stricter than the pass line ${describeLimit(pass)}; a warning line lets through more than the pass line, for example pass ${pass.operator} ${pass.value}, warn ${warn.operator} ${upper(pass) ? 'a larger' : 'a smaller'} limit`;
  return undefined;
}

function duplicate(threshold: MetricThreshold, earlier: readonly MetricThreshold[]): string | undefined {
  const first = earlier.find((each) => each.metric === threshold.metric);
  return first
    ? `${threshold.metric} already has a threshold on line ${first.line}; keep one of them`
    : undefined;
}

/** "<= 1", "<= +10%": a limit as written. */
export function describeLimit(limit: Limit): string {
  return `${limit.operator} ${limit.relative ? `${limit.value >= 0 ? '+' : ''}${limit.value}%` : limit.value}`;
}

/** True when one of the threshold's lines is relative to the previous release. */
export function isRelative(threshold: MetricThreshold): boolean {
  return threshold.pass.relative || threshold.warn?.relative === true;
}
