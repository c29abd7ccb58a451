import { describeNetworkError, type Send } from './http-client';

/**
 * Waits until the staging deployment says it is ready: polls a readiness URL until
 * it answers 2xx, backing off between polls, and gives up at the timeout. Clock and
 * sleep are injected so tests run it on fake time.
 */

/**
 * The backoff between polls: 1 s doubling to at most 10 s (readiness usually flips
 * within a minute). Each poll may take up to 10 s, and never less than 1 s.
 */
export const readinessBackoff = {
  initialDelayMs: 1_000,
  maxDelayMs: 10_000,
  requestTimeoutMs: 10_000,
  minRequestTimeoutMs: 1_000,
} as const;

/** The outcome: ready after some polls, or the last thing seen before the timeout. */
export type Readiness =
  | { readonly ready: true; readonly polls: number; readonly waitedMs: number }
  | { readonly ready: false; readonly polls: number; readonly waitedMs: number; readonly lastSeen: string };

/** What the wait needs from its surroundings. */
export interface ReadinessDeps {
  readonly send: Send;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Polls `url` until 2xx or until `timeoutMs` has passed. */
export async function waitUntilReady(
  url: string,
  timeoutMs: number,
  deps: ReadinessDeps,
): Promise<Readiness> {
  const started = deps.now();
  let delay: number = readinessBackoff.initialDelayMs;
  let lastSeen = 'no answer yet';
  for (let polls = 1; ; polls++) {
    const remaining = timeoutMs - (deps.now() - started);
    try {
      const response = await deps.send({
        method: 'GET',
        url,
        headers: {},
        // The last poll lands at the deadline; it still gets a fair second to answer.
        timeoutMs: Math.min(
          readinessBackoff.requestTimeoutMs,
          Math.max(readinessBackoff.minRequestTimeoutMs, remaining),
        ),
      });
      if (response.status >= 200 && response.status < 300) {
        return { ready: true, polls, waitedMs: deps.now() - started };
      }
      lastSeen = `status ${response.status}`;
    } catch (error) {
      lastSeen = describeNetworkError(error);
    }
    const elapsed = deps.now() - started;
    if (elapsed >= timeoutMs) return { ready: false, polls, waitedMs: elapsed, lastSeen };
    await deps.sleep(Math.min(delay, timeoutMs - elapsed));
    delay = Math.min(delay * 2, readinessBackoff.maxDelayMs);
  }
}
