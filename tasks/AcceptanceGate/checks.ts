/**
 * The checks model: what one acceptance check asks of the staging deployment. Plain
 * data, produced by checks-file.ts and consumed by the runner and the assertions.
 */

/** HTTP methods a check may use. */
export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof httpMethods)[number];

/** How an asserted value is compared. */
export type Operator =
  | { readonly op: 'equals'; readonly value: unknown }
  | { readonly op: 'matches'; readonly pattern: RegExp }
  | { readonly op: 'contains'; readonly text: string }
  | { readonly op: 'exists'; readonly present: boolean };

/** One assertion on a response: a JSONPath into the body, the raw body, or a header. */
export type Assertion =
  | { readonly target: 'jsonPath'; readonly path: string; readonly operator: Operator }
  | { readonly target: 'body'; readonly operator: Operator }
  | { readonly target: 'header'; readonly name: string; readonly operator: Operator };

/** Accepted statuses: exact codes (200) and classes (2 for "2xx"). */
export interface StatusExpectation {
  readonly codes: readonly number[];
  readonly classes: readonly number[];
}

/** One HTTP check, fully validated, with header values already resolved. */
export interface Check {
  readonly name: string;
  readonly method: HttpMethod;
  /** A path joined to baseUrl, or an absolute URL. */
  readonly target: { readonly path: string } | { readonly url: string };
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly status: StatusExpectation;
  readonly assertions: readonly Assertion[];
  readonly maxLatencyMs?: number;
  readonly repeat: number;
  readonly p95LatencyMs?: number;
  readonly timeoutMs: number;
  /** Where the check is defined, for messages: "checks.yaml:12". */
  readonly source: string;
}

/** True when `status` is one the check accepts. */
export function statusAccepted(expectation: StatusExpectation, status: number): boolean {
  return expectation.codes.includes(status) || expectation.classes.includes(Math.floor(status / 100));
}

/** "200, 204, 3xx": the expectation as the user wrote it. */
export function describeStatus(expectation: StatusExpectation): string {
  return [...expectation.codes.map(String), ...expectation.classes.map((c) => `${c}xx`)].join(', ');
}

/** The URL a check calls: its absolute URL, or its path under `baseUrl`. */
export function checkUrl(check: Check, baseUrl: string): string {
  if ('url' in check.target) return check.target.url;
  return baseUrl.replace(/\/+$/, '') + check.target.path;
}
