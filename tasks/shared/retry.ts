import type { RetryPolicy } from './network';

/** What came back from one attempt, as far as retrying is concerned. */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfter?: string }
  | { readonly kind: 'networkError' };

/** Statuses worth another try: throttling and the server-side failures that pass. */
export const retryableStatuses: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/**
 * The retry strategy of every call the tasks make themselves (registry, Kubernetes), a
 * pure function: how long to wait before attempt
 * `attempt + 1` (attempt counts from 0), or undefined to stop. Throttling waits what the
 * service asks in Retry-After, up to the policy's cap (longer than that fails at once, with
 * the wait in the error, rather than hang a pipeline); 5xx and dropped connections back off
 * exponentially with jitter. `random` is injectable so tests are exact.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  outcome: AttemptOutcome,
  now: number = Date.now(),
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= policy.maxRetries) return undefined;
  if (outcome.kind === 'response') {
    if (!retryableStatuses.has(outcome.status)) return undefined;
    const asked = outcome.retryAfter === undefined ? undefined : parseRetryAfterMs(outcome.retryAfter, now);
    if (asked !== undefined) return asked <= policy.maxRetryAfterMs ? asked : undefined;
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  // "Equal jitter": at least half the step, so retries spread out but never collapse to zero.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from `now`; undefined when unreadable. */
export function parseRetryAfterMs(value: string, now: number = Date.now()): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
