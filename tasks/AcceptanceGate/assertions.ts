import { JSONPath } from 'jsonpath-plus';
import { excerpt, type Redact } from '../shared/redaction';
import type { Assertion, Operator } from './checks';

/**
 * Evaluates a check's assertions against one response. Pure: a response in, the
 * failures out (an empty list means every assertion held). Failure texts quote the
 * body's values, redacted before they are cut, but never a header's, since header
 * values may be credentials.
 */

/** The parts of a response assertions look at. Header names are lower-case. */
export interface ObservedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Returns one line per failed assertion; `redact` masks secrets in quoted values before they are cut. */
export function evaluateAssertions(
  assertions: readonly Assertion[],
  response: ObservedResponse,
  redact: Redact,
): string[] {
  const show = (value: unknown): string =>
    excerpt(JSON.stringify(value) ?? String(value), shownLength, redact);
  const failures: string[] = [];
  let json: { parsed: unknown } | undefined | null;
  for (const assertion of assertions) {
    if (assertion.target === 'body') {
      const failure = compare(assertion.operator, [response.body], 'body', show);
      if (failure) failures.push(failure);
    } else if (assertion.target === 'header') {
      const value = response.headers[assertion.name];
      const failure = compareHeader(assertion.operator, assertion.name, value, show);
      if (failure) failures.push(failure);
    } else {
      json ??= parseJson(response.body);
      if (json === null) {
        failures.push(`${assertion.path}: the body is not JSON`);
        continue;
      }
      const values = selectJsonPath(json.parsed, assertion.path);
      if (values instanceof Error) {
        failures.push(`${assertion.path}: ${values.message}`);
        continue;
      }
      const failure = compare(assertion.operator, values, assertion.path, show);
      if (failure) failures.push(failure);
    }
  }
  return failures;
}

// jsonpath-plus returns every match; its safe evaluator (the default since v10) runs
// filter expressions such as $.items[?(@.ready)] without eval().
function selectJsonPath(json: unknown, path: string): unknown[] | Error {
  try {
    return JSONPath({ path, json: json as object, wrap: true, eval: 'safe' }) as unknown[];
  } catch (error) {
    return new Error(`the JSONPath could not be evaluated (${(error as Error).message})`);
  }
}

type Show = (value: unknown) => string;

function compare(
  operator: Operator,
  values: readonly unknown[],
  where: string,
  show: Show,
): string | undefined {
  switch (operator.op) {
    case 'exists':
      if (values.length > 0 === operator.present) return undefined;
      return operator.present
        ? `${where}: expected a value, found none`
        : `${where}: expected no value, found ${show(values[0])}`;
    case 'equals':
      if (values.length === 0) return `${where}: expected ${show(operator.value)}, found nothing`;
      return values.every((value) => deepEqual(value, operator.value))
        ? undefined
        : `${where}: expected ${show(operator.value)}, found ${show(values.length === 1 ? values[0] : values)}`;
    case 'matches':
      if (values.length === 0)
        return `${where}: expected a match for /${operator.pattern.source}/, found nothing`;
      return values.every((value) => operator.pattern.test(asText(value)))
        ? undefined
        : `${where}: expected a match for /${operator.pattern.source}/, found ${show(values.find((v) => !operator.pattern.test(asText(v))))}`;
    case 'contains':
      if (values.length === 0)
        return `${where}: expected it to contain ${show(operator.text)}, found nothing`;
      return values.some((value) => containsText(value, operator.text))
        ? undefined
        : `${where}: expected it to contain ${show(operator.text)}`;
  }
}

function compareHeader(
  operator: Operator,
  name: string,
  value: string | undefined,
  show: Show,
): string | undefined {
  const where = `header ${name}`;
  if (operator.op === 'exists') {
    if ((value !== undefined) === operator.present) return undefined;
    return operator.present ? `${where}: expected it to be present` : `${where}: expected it to be absent`;
  }
  if (value === undefined) return `${where}: missing`;
  const held =
    operator.op === 'equals'
      ? value === String(operator.value)
      : operator.op === 'matches'
        ? operator.pattern.test(value)
        : value.includes(operator.text);
  // Header values stay out of the message: a response may echo a credential.
  return held
    ? undefined
    : `${where}: its value does not ${operator.op === 'equals' ? 'equal' : operator.op === 'matches' ? `match /${operator.pattern.source}/` : `contain ${show(operator.text)}`} the expected one`;
}

function containsText(value: unknown, text: string): boolean {
  if (Array.isArray(value)) return value.some((item) => deepEqual(item, text) || containsText(item, text));
  return asText(value).includes(text);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return (
    keysA.length === keysB.length &&
    keysA.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

function parseJson(body: string): { parsed: unknown } | null {
  try {
    return { parsed: JSON.parse(body) as unknown };
  } catch {
    return null;
  }
}

/** Quoted values are cut to this many characters, after redaction. */
const shownLength = 80;
