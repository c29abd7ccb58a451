import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { excerpt } from '../shared/redaction';
import {
  httpMethods,
  type Assertion,
  type Check,
  type HttpMethod,
  type Operator,
  type StatusExpectation,
} from './checks';
import { jsonPathProblem } from './json-path';

/**
 * Parses and validates a checks file (or inline YAML) into Checks. Every mistake is
 * reported, not just the first, each with its file, line and field, so one edit can
 * fix them all. Header values may name pipeline variables as `$(name)`; `variable`
 * resolves them, and the values of secret ones are returned to register with the agent.
 */

/** One mistake in a checks file: where it is, which field, and what is wrong. */
export interface ChecksProblem {
  readonly file: string;
  readonly line: number;
  readonly field: string;
  readonly problem: string;
}

/** The outcome of parsing: the checks, or the list of problems. */
export type ChecksParse =
  | {
      readonly ok: true;
      readonly checks: readonly Check[];
      /** Values of secret pipeline variables the headers use, each once. */
      readonly secretValues: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly ChecksProblem[] };

/** A pipeline variable's value, and whether the pipeline marks it secret. */
export interface PipelineVariable {
  readonly value: string;
  readonly secret: boolean;
}

/** Looks up a pipeline variable for a `$(name)` reference. */
export type VariableLookup = (name: string) => PipelineVariable | undefined;

const checkKeys = [
  'name',
  'method',
  'path',
  'url',
  'headers',
  'body',
  'status',
  'assertions',
  'maxLatencyMs',
  'repeat',
  'p95LatencyMs',
  'timeoutMs',
] as const;
const defaultsKeys = ['headers', 'status', 'maxLatencyMs', 'timeoutMs'] as const;
const assertionTargets = ['jsonPath', 'header', 'regex', 'contains'] as const;
const operatorKeys = ['equals', 'matches', 'contains', 'exists'] as const;
const defaultTimeoutMs = 30_000;
const maxRepeat = 1000;
const variableReference = /\$\(([A-Za-z0-9_.-]+)\)/g;

/** Parses checks YAML text; `file` names it in messages ("inline" for the input itself). */
export function parseChecks(text: string, file: string, variable: VariableLookup): ChecksParse {
  const lineCounter = new LineCounter();
  // yaml's own duplicate-key check compares each key with every earlier one, which made a
  // 1 MB mapping take 40 s; duplicateKeys below does the same job with one set per mapping.
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const problems: ChecksProblem[] = [];
  const lineOf = (node: Node | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  const report = (node: Node | null | undefined, field: string, problem: string): void => {
    problems.push({ file, line: lineOf(node), field, problem });
  };

  for (const error of document.errors) {
    problems.push({
      file,
      line: lineCounter.linePos(error.pos[0]).line,
      field: '(yaml)',
      problem: `${error.message.split('\n', 1)[0]}; fix the YAML syntax`,
    });
  }
  if (problems.length === 0) problems.push(...duplicateKeys(document, file, lineOf));
  if (problems.length > 0) return { ok: false, problems };

  const root = document.contents;
  let checkList: Node | null | undefined = root;
  let defaults: YAMLMap | undefined;
  if (isMap(root)) {
    for (const pair of root.items) {
      const key = keyName(pair);
      if (key === 'checks') checkList = pair.value as Node;
      else if (key === 'defaults') {
        if (isMap(pair.value)) defaults = pair.value;
        else
          report(
            pair.value as Node,
            'defaults',
            'must be a mapping of headers, status, maxLatencyMs, timeoutMs',
          );
      } else report(pair.key as Node, key, 'unknown top-level key; use "checks" (and optionally "defaults")');
    }
    if (checkList === root) checkList = undefined;
  }
  if (!isSeq(checkList) || checkList.items.length === 0) {
    report(
      checkList ?? root,
      'checks',
      'must be a non-empty list of checks, for example "checks: [{name: health, path: /healthz}]"',
    );
    return { ok: false, problems };
  }

  const context: Context = { report, problems, variable, secretValues: new Set(), file, lineOf };
  const defaultsParsed = defaults ? readDefaults(defaults, context) : {};
  const checks: Check[] = [];
  const names = new Map<string, number>();
  checkList.items.forEach((item, index) => {
    const check = readCheck(item as Node, `checks[${index}]`, defaultsParsed, context);
    if (!check) return;
    const earlier = names.get(check.name);
    if (earlier !== undefined) {
      report(
        item as Node,
        `checks[${index}].name`,
        `${quote(check.name)} is already used by checks[${earlier}]; names must be unique`,
      );
      return;
    }
    names.set(check.name, index);
    checks.push(check);
  });
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, checks, secretValues: [...context.secretValues] };
}

/** Every key that a mapping repeats, in linear time: one set of seen keys per mapping. */
function duplicateKeys(
  document: Document,
  file: string,
  lineOf: (node: Node | null | undefined) => number,
): ChecksProblem[] {
  const problems: ChecksProblem[] = [];
  visit(document, {
    Map: (_key, map) => {
      const seen = new Map<unknown, Node>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const first = seen.get(pair.key.value);
        if (first === undefined) seen.set(pair.key.value, pair.key);
        else
          problems.push({
            file,
            line: lineOf(pair.key),
            field: '(yaml)',
            problem: `the key ${quote(String(pair.key.value))} is repeated in one mapping (first on line ${lineOf(first)}); keep one of them`,
          });
      }
    },
  });
  return problems;
}

interface Context {
  readonly report: (node: Node | null | undefined, field: string, problem: string) => void;
  readonly problems: readonly ChecksProblem[];
  readonly variable: VariableLookup;
  readonly secretValues: Set<string>;
  readonly file: string;
  readonly lineOf: (node: Node | null | undefined) => number;
}

interface Defaults {
  headers?: Record<string, string>;
  status?: StatusExpectation;
  maxLatencyMs?: number;
  timeoutMs?: number;
}

function readDefaults(map: YAMLMap, context: Context): Defaults {
  const defaults: Defaults = {};
  for (const pair of map.items) {
    const key = keyName(pair);
    const value = pair.value as Node;
    const field = `defaults.${key}`;
    if (key === 'headers') defaults.headers = readHeaders(value, field, context);
    else if (key === 'status') defaults.status = readStatus(value, field, context);
    else if (key === 'maxLatencyMs' || key === 'timeoutMs')
      defaults[key] = readPositive(value, field, context);
    else context.report(pair.key as Node, field, `unknown key; accepted: ${defaultsKeys.join(', ')}`);
  }
  return defaults;
}

function readCheck(node: Node, field: string, defaults: Defaults, context: Context): Check | undefined {
  const { report } = context;
  if (!isMap(node)) {
    report(node, field, 'must be a mapping with at least "name" and "path" (or "url")');
    return undefined;
  }
  const values = new Map<string, Node>();
  for (const pair of node.items) {
    const key = keyName(pair);
    if (!(checkKeys as readonly string[]).includes(key)) {
      report(pair.key as Node, `${field}.${key}`, `unknown key; accepted: ${checkKeys.join(', ')}`);
    } else values.set(key, pair.value as Node);
  }
  const before = problemsCount(context);
  const name = readString(values.get('name'), `${field}.name`, context, node);
  const label = name ? `${field} (${name})` : field;
  const methodNode = values.get('method');
  let method: HttpMethod = 'GET';
  if (methodNode !== undefined) {
    const raw = readString(methodNode, `${label}.method`, context, node)?.toUpperCase();
    if (raw && (httpMethods as readonly string[]).includes(raw)) method = raw as HttpMethod;
    else if (raw)
      report(methodNode, `${label}.method`, `must be one of ${httpMethods.join(', ')}; it is ${quote(raw)}`);
  }
  const target = readTarget(values.get('path'), values.get('url'), label, node, context);
  const headers = { ...defaults.headers, ...readHeaders(values.get('headers'), `${label}.headers`, context) };
  const body = readBody(values.get('body'), `${label}.body`, context);
  const status = values.has('status')
    ? readStatus(values.get('status'), `${label}.status`, context)
    : (defaults.status ?? { codes: [], classes: [2] });
  const assertions = readAssertions(values.get('assertions'), `${label}.assertions`, context);
  const maxLatencyMs = values.has('maxLatencyMs')
    ? readPositive(values.get('maxLatencyMs'), `${label}.maxLatencyMs`, context)
    : defaults.maxLatencyMs;
  const repeat = values.has('repeat')
    ? readPositive(values.get('repeat'), `${label}.repeat`, context, maxRepeat)
    : 1;
  const p95LatencyMs = values.has('p95LatencyMs')
    ? readPositive(values.get('p95LatencyMs'), `${label}.p95LatencyMs`, context)
    : undefined;
  const timeoutMs = values.has('timeoutMs')
    ? readPositive(values.get('timeoutMs'), `${label}.timeoutMs`, context)
    : (defaults.timeoutMs ?? defaultTimeoutMs);
  if (p95LatencyMs !== undefined && (repeat ?? 1) < 2) {
    report(
      values.get('p95LatencyMs'),
      `${label}.p95LatencyMs`,
      'needs "repeat" of 2 or more (for example repeat: 20) to have a p95',
    );
  }
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
    report(values.get('body'), `${label}.body`, `a ${method} request has no body; use POST, PUT or PATCH`);
  }
  if (problemsCount(context) > before || !name || !target || !status || !assertions) return undefined;
  return {
    name,
    method,
    target,
    headers:
      body?.contentType && !hasHeader(headers, 'content-type')
        ? { ...headers, 'content-type': body.contentType }
        : headers,
    ...(body ? { body: body.text } : {}),
    status,
    assertions,
    ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
    repeat: repeat ?? 1,
    ...(p95LatencyMs !== undefined ? { p95LatencyMs } : {}),
    timeoutMs: timeoutMs ?? defaultTimeoutMs,
    source: `${context.file}:${context.lineOf(node)}`,
  };
}

function problemsCount(context: Context): number {
  return context.problems.length;
}

function noteProblem(context: Context, node: Node | null | undefined, field: string, problem: string): void {
  context.report(node, field, problem);
}

function readTarget(
  path: Node | undefined,
  url: Node | undefined,
  field: string,
  checkNode: Node,
  context: Context,
): Check['target'] | undefined {
  if (path !== undefined && url !== undefined) {
    noteProblem(
      context,
      url,
      `${field}.url`,
      'give either "path" (joined to baseUrl) or "url" (absolute), not both',
    );
    return undefined;
  }
  if (path !== undefined) {
    const value = readString(path, `${field}.path`, context, checkNode);
    if (value === undefined) return undefined;
    if (!value.startsWith('/')) {
      noteProblem(
        context,
        path,
        `${field}.path`,
        `must start with "/", for example /healthz; it is ${quote(value)}`,
      );
      return undefined;
    }
    return { path: value };
  }
  if (url !== undefined) {
    const value = readString(url, `${field}.url`, context, checkNode);
    if (value === undefined) return undefined;
    if (!/^https?:\/\/[^/]/i.test(value) || !URL.canParse(value)) {
      noteProblem(
        context,
        url,
        `${field}.url`,
        `must be an absolute http(s) URL such as https://app.example.com/healthz; it is ${quote(value)}`,
      );
      return undefined;
    }
    return { url: value };
  }
  noteProblem(context, checkNode, field, 'needs "path" (for example /healthz) or "url"');
  return undefined;
}

function readHeaders(node: Node | undefined, field: string, context: Context): Record<string, string> {
  if (node === undefined) return {};
  if (!isMap(node)) {
    noteProblem(
      context,
      node,
      field,
      'must be a mapping of header names to values, for example "Accept: application/json"',
    );
    return {};
  }
  const headers: Record<string, string> = {};
  for (const pair of node.items) {
    const name = keyName(pair);
    const valueNode = pair.value as Node;
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      noteProblem(context, pair.key as Node, `${field}.${name}`, 'is not a valid HTTP header name');
      continue;
    }
    if (!isScalar(valueNode) || valueNode.value === null || typeof valueNode.value === 'object') {
      noteProblem(
        context,
        valueNode ?? node,
        `${field}.${name}`,
        'must be a text value (use $(variableName) for a pipeline secret)',
      );
      continue;
    }
    const template = String(valueNode.value);
    let unresolved: string | undefined;
    const value = template.replace(variableReference, (_whole, variableName: string) => {
      const found = context.variable(variableName);
      if (found === undefined) unresolved ??= variableName;
      else if (found.secret && found.value !== '') context.secretValues.add(found.value);
      return found?.value ?? '';
    });
    if (unresolved !== undefined) {
      noteProblem(
        context,
        valueNode,
        `${field}.${name}`,
        `refers to the pipeline variable ${quote(unresolved)}, which is not set; define it (as a secret if it is one) or fix the name`,
      );
      continue;
    }
    if (/[\r\n]/.test(value)) {
      noteProblem(
        context,
        valueNode,
        `${field}.${name}`,
        'must be on one line (its value holds a line break)',
      );
      continue;
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

function readBody(
  node: Node | undefined,
  field: string,
  context: Context,
): { text: string; contentType?: string } | undefined {
  if (node === undefined) return undefined;
  if (isScalar(node) && typeof node.value === 'string') return { text: node.value };
  if (isMap(node) || isSeq(node))
    return { text: JSON.stringify(node.toJSON()), contentType: 'application/json' };
  noteProblem(context, node, field, 'must be text, or a mapping/list sent as JSON');
  return undefined;
}

function readStatus(node: Node | undefined, field: string, context: Context): StatusExpectation | undefined {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  const codes: number[] = [];
  const classes: number[] = [];
  for (const item of items) {
    const raw = isScalar(item) ? item.value : undefined;
    if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 100 && raw <= 599) codes.push(raw);
    else if (typeof raw === 'string' && /^[1-5]xx$/i.test(raw)) classes.push(Number(raw[0]));
    else if (typeof raw === 'string' && /^[1-5]\d\d$/.test(raw)) codes.push(Number(raw));
    else {
      noteProblem(
        context,
        item ?? node,
        field,
        `must be a status such as 200, a class such as 2xx, or a list such as [200, 204]; it is ${describe(item)}`,
      );
      return undefined;
    }
  }
  if (codes.length + classes.length === 0) {
    noteProblem(context, node, field, 'must list at least one status, for example [200, 204]');
    return undefined;
  }
  return { codes, classes };
}

function readAssertions(node: Node | undefined, field: string, context: Context): Assertion[] | undefined {
  if (node === undefined) return [];
  if (!isSeq(node)) {
    noteProblem(context, node, field, 'must be a list, for example "- jsonPath: $.status\\n  equals: ok"');
    return undefined;
  }
  const assertions: Assertion[] = [];
  let failed = false;
  node.items.forEach((item, index) => {
    const assertion = readAssertion(item as Node, `${field}[${index}]`, context);
    if (assertion) assertions.push(assertion);
    else failed = true;
  });
  return failed ? undefined : assertions;
}

function readAssertion(node: Node, field: string, context: Context): Assertion | undefined {
  if (!isMap(node)) {
    noteProblem(context, node, field, `must be a mapping with one of: ${assertionTargets.join(', ')}`);
    return undefined;
  }
  const entries = new Map<string, Node>();
  for (const pair of node.items) {
    const key = keyName(pair);
    if (![...assertionTargets, ...operatorKeys].includes(key as never)) {
      noteProblem(
        context,
        pair.key as Node,
        `${field}.${key}`,
        `unknown assertion ${quote(key)}; accepted: jsonPath or header with equals, matches, contains or exists; regex; contains`,
      );
      return undefined;
    }
    entries.set(key, pair.value as Node);
  }
  const targets = (['jsonPath', 'header'] as const).filter((target) => entries.has(target));
  const operators = operatorKeys.filter((key) => entries.has(key));
  if (
    entries.has('regex') ||
    (entries.has('contains') && !entries.has('jsonPath') && !entries.has('header'))
  ) {
    if (entries.size !== 1) {
      noteProblem(
        context,
        node,
        field,
        '"regex" and "contains" on the body stand alone; put other assertions in their own list items',
      );
      return undefined;
    }
    if (entries.has('regex')) {
      const pattern = readRegex(entries.get('regex'), `${field}.regex`, context);
      return pattern ? { target: 'body', operator: { op: 'matches', pattern } } : undefined;
    }
    const text = readString(entries.get('contains'), `${field}.contains`, context, node);
    return text !== undefined ? { target: 'body', operator: { op: 'contains', text } } : undefined;
  }
  if (targets.length !== 1 || operators.length !== 1) {
    noteProblem(
      context,
      node,
      field,
      'needs one target (jsonPath or header) and one of equals, matches, contains, exists',
    );
    return undefined;
  }
  const operator = readOperator(operators[0] as (typeof operatorKeys)[number], entries, field, context);
  if (!operator) return undefined;
  if (targets[0] === 'jsonPath') {
    const path = readString(entries.get('jsonPath'), `${field}.jsonPath`, context, node);
    if (path === undefined) return undefined;
    if (!path.startsWith('$')) {
      noteProblem(
        context,
        entries.get('jsonPath'),
        `${field}.jsonPath`,
        `must start with "$", for example $.status; it is ${quote(path)}`,
      );
      return undefined;
    }
    const pathProblem = jsonPathProblem(path);
    if (pathProblem) {
      noteProblem(
        context,
        entries.get('jsonPath'),
        `${field}.jsonPath`,
        `is not a valid JSONPath: ${pathProblem}`,
      );
      return undefined;
    }
    return { target: 'jsonPath', path, operator };
  }
  const name = readString(entries.get('header'), `${field}.header`, context, node);
  if (name === undefined) return undefined;
  if (operator.op === 'equals' && typeof operator.value !== 'string') {
    return {
      target: 'header',
      name: name.toLowerCase(),
      operator: { op: 'equals', value: String(operator.value) },
    };
  }
  return { target: 'header', name: name.toLowerCase(), operator };
}

function readOperator(
  key: (typeof operatorKeys)[number],
  entries: Map<string, Node>,
  field: string,
  context: Context,
): Operator | undefined {
  const node = entries.get(key);
  switch (key) {
    case 'equals':
      return { op: 'equals', value: node ? (node.toJSON() as unknown) : null };
    case 'matches': {
      const pattern = readRegex(node, `${field}.matches`, context);
      return pattern ? { op: 'matches', pattern } : undefined;
    }
    case 'contains': {
      const text = readString(node, `${field}.contains`, context, node);
      return text !== undefined ? { op: 'contains', text } : undefined;
    }
    case 'exists': {
      const value = isScalar(node) ? node.value : undefined;
      if (typeof value !== 'boolean') {
        noteProblem(context, node, `${field}.exists`, 'must be true or false');
        return undefined;
      }
      return { op: 'exists', present: value };
    }
  }
}

function readRegex(node: Node | undefined, field: string, context: Context): RegExp | undefined {
  const source = readString(node, field, context, node);
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    noteProblem(context, node, field, `is not a valid regular expression (${(error as Error).message})`);
    return undefined;
  }
}

function readString(
  node: Node | undefined,
  field: string,
  context: Context,
  parent: Node | undefined,
): string | undefined {
  if (node === undefined) {
    noteProblem(context, parent, field, 'is required');
    return undefined;
  }
  const value = isScalar(node) ? node.value : undefined;
  if ((typeof value === 'string' && value.trim() !== '') || typeof value === 'number') return String(value);
  noteProblem(context, node, field, `must be non-empty text; it is ${describe(node)}`);
  return undefined;
}

function readPositive(
  node: Node | undefined,
  field: string,
  context: Context,
  max = 3_600_000,
): number | undefined {
  const value = isScalar(node) ? node.value : undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max) return value;
  noteProblem(context, node, field, `must be a whole number from 1 to ${max}; it is ${describe(node)}`);
  return undefined;
}

function describe(node: Node | null | undefined): string {
  if (node === undefined || node === null) return 'empty';
  if (isScalar(node)) return node.value === null ? 'empty' : quote(node.value);
  return isSeq(node) ? 'a list' : 'a mapping';
}

/** A value as a problem quotes it: in double quotes, at most 80 characters of it. */
function quote(value: unknown): string {
  return excerpt(JSON.stringify(value) ?? String(value), 80);
}

function keyName(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}
