import { excerpt, type Redact } from '../shared/redaction';
import { evaluateAssertions } from './assertions';
import { checkUrl, describeStatus, statusAccepted, type Check } from './checks';
import type { HostPool } from './host-pool';
import { describeNetworkError, type Send } from './http-client';
import { median, percentile } from './latency';

/**
 * Runs every check against the staging deployment, all at once but bounded per host
 * by the pool, and retries failed checks up to `retryFailed` times. A check that
 * fails and then passes is reported as flaky: it counts as passed, and is named so
 * someone looks at it.
 */

/** How a check ended. */
export type Outcome = 'passed' | 'flaky' | 'failed';

/** One check's result, as the verdict, the JUnit file and the summary need it. */
export interface CheckResult {
  readonly name: string;
  readonly url: string;
  readonly outcome: Outcome;
  /** Attempts made: 1, plus one per retry. */
  readonly attempts: number;
  /** Median latency of the last attempt's requests. */
  readonly latencyMs: number;
  /** p95 over the last attempt's repeats (the only latency for a single request). */
  readonly p95Ms: number;
  /** Last attempt's latencies, one per repeat. */
  readonly latenciesMs: readonly number[];
  /** Why the last attempt failed (for a flaky check: why the first one did). */
  readonly failures: readonly string[];
  /** True when every request of the last attempt failed to connect. */
  readonly unreachable: boolean;
  readonly source: string;
}

/** What the runner needs from its surroundings. */
export interface RunnerDeps {
  readonly send: Send;
  readonly pool: HostPool;
  /** Masks secrets in quoted response text, before it is cut. */
  readonly redact: Redact;
}

/** A failure quotes this much of a response body, after redaction: enough to see an error's message. */
const quotedBodyLength = 160;

/** Runs `checks` against `baseUrl`. Never throws for a failing check. */
export async function runChecks(
  checks: readonly Check[],
  baseUrl: string,
  retryFailed: number,
  deps: RunnerDeps,
): Promise<CheckResult[]> {
  return Promise.all(
    checks.map((check) => runWithRetries(check, checkUrl(check, baseUrl), retryFailed, deps)),
  );
}

async function runWithRetries(
  check: Check,
  url: string,
  retryFailed: number,
  deps: RunnerDeps,
): Promise<CheckResult> {
  let first: Attempt | undefined;
  for (let attempt = 1; ; attempt++) {
    const result = await runAttempt(check, url, deps);
    first ??= result;
    const passed = result.failures.length === 0;
    if (passed || attempt > retryFailed) {
      return {
        name: check.name,
        url,
        outcome: passed ? (attempt > 1 ? 'flaky' : 'passed') : 'failed',
        attempts: attempt,
        latencyMs: median(result.latenciesMs),
        p95Ms: percentile(result.latenciesMs, 95),
        latenciesMs: result.latenciesMs,
        failures: passed ? first.failures : result.failures,
        unreachable: result.unreachable,
        source: check.source,
      };
    }
  }
}

interface Attempt {
  readonly failures: string[];
  readonly latenciesMs: number[];
  readonly unreachable: boolean;
}

async function runAttempt(check: Check, url: string, deps: RunnerDeps): Promise<Attempt> {
  const host = new URL(url).host;
  const repeats = Array.from({ length: check.repeat }, () =>
    deps.pool.run(host, () => requestOnce(check, url, deps)),
  );
  const outcomes = await Promise.all(repeats);
  const latenciesMs = outcomes.flatMap((outcome) =>
    outcome.latencyMs !== undefined ? [outcome.latencyMs] : [],
  );
  const failures = dedupe(
    outcomes.flatMap((outcome) => outcome.failures),
    check.repeat,
  );
  if (check.p95LatencyMs !== undefined && latenciesMs.length > 0) {
    const p95 = percentile(latenciesMs, 95);
    if (p95 > check.p95LatencyMs) {
      failures.push(
        `p95 latency ${Math.round(p95)} ms over ${check.repeat} requests is above ${check.p95LatencyMs} ms`,
      );
    }
  }
  return { failures, latenciesMs, unreachable: outcomes.every((outcome) => outcome.unreachable) };
}

interface RequestOutcome {
  readonly failures: string[];
  readonly latencyMs?: number;
  readonly unreachable: boolean;
}

async function requestOnce(check: Check, url: string, deps: RunnerDeps): Promise<RequestOutcome> {
  let response;
  try {
    response = await deps.send({
      method: check.method,
      url,
      headers: check.headers,
      ...(check.body !== undefined ? { body: check.body } : {}),
      timeoutMs: check.timeoutMs,
    });
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return {
      failures: [`request failed: ${describeNetworkError(error)}`],
      unreachable: code !== 'ETIMEDOUT',
    };
  }
  const failures: string[] = [];
  if (!statusAccepted(check.status, response.status)) {
    // Redacted first, then made one line, then cut: a cut or a joined line can hide a secret from redaction.
    const body = excerpt(deps.redact(response.body).replace(/\s+/g, ' ').trim(), quotedBodyLength);
    failures.push(
      `status ${response.status}, expected ${describeStatus(check.status)}${body ? ` (body: ${body})` : ''}`,
    );
  }
  failures.push(...evaluateAssertions(check.assertions, response, deps.redact));
  if (check.maxLatencyMs !== undefined && response.latencyMs > check.maxLatencyMs) {
    failures.push(`slower than ${check.maxLatencyMs} ms`);
  }
  return { failures, latencyMs: response.latencyMs, unreachable: false };
}

// Twenty repeats that fail the same way read as one failure, not twenty, saying how many of
// the check's requests it was.
function dedupe(lines: readonly string[], requests: number): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, count]) =>
    requests > 1 ? `${line} (in ${count} of ${requests} requests)` : line,
  );
}
