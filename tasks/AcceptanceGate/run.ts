import { firstLineExcerpt, type Redact } from '../shared/redaction';
import type { StepPlace } from '../shared/summary-file';
import { TaskError } from '../shared/task-error';
import { counted } from '../shared/wording';
import { runChecks, type CheckResult } from './check-runner';
import type { Check } from './checks';
import type { HealthReport } from './health';
import { HostPool } from './host-pool';
import type { Send } from './http-client';
import { writeJUnit, type TestCase } from './junit';
import { waitUntilReady, type Readiness } from './readiness';
import { renderSummary } from './summary';
import { runTestCommand, type TestCommandDeps } from './test-command';
import { decideVerdict, withFailures, type Reason, type Verdict } from './verdict';

/**
 * The gate, start to end, without task-lib: wait for readiness, run the checks and
 * the test command side by side, query health, decide, and render the JUnit file and
 * the summary. The shell (index.ts) reads the inputs and writes what this returns.
 */

/** The gate's settings, read once from the inputs. */
export interface GateConfig {
  readonly baseUrl: string;
  readonly checks: readonly Check[];
  readonly readiness?: { readonly url: string; readonly timeoutMs: number };
  readonly testCommand?: {
    readonly command: string;
    readonly resultsGlob: string;
    readonly timeoutMinutes: number;
  };
  readonly minPassRate: number;
  readonly retryFailed: number;
  readonly concurrencyPerHost: number;
  /** Watches the release's health, with the gate's clock and log; absent when no workspace is set. */
  readonly health?: (deps: Pick<GateDeps, 'now' | 'sleep' | 'log'>) => Promise<HealthReport>;
  /** The stage and environment the step runs in, for the summary's heading. */
  readonly place?: StepPlace;
}

/** What the gate needs from its surroundings. */
export interface GateDeps extends Omit<TestCommandDeps, 'now'> {
  readonly send: Send;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** A line for the log. */
  readonly log: (line: string) => void;
  /** Masks secrets; applied before any text is cut. */
  readonly redact: Redact;
  readonly localise: (reason: Reason) => string;
}

/** Everything the shell publishes. */
export interface GateOutcome {
  readonly verdict: Verdict;
  readonly checks: readonly CheckResult[];
  readonly tests: readonly TestCase[];
  readonly health?: HealthReport;
  readonly junitXml: string;
  readonly summaryMarkdown: string;
  /** The verdict's reasons as TaskErrors, one line each, for the task result. */
  readonly failures: readonly TaskError[];
  /** Why the verdict is Warning or Inconclusive, one line each, for the run's issues. */
  readonly issues: readonly TaskError[];
}

/** Runs the gate. Problems with the test command or the health query fail the verdict; they do not stop the checks. */
export async function runGate(config: GateConfig, deps: GateDeps): Promise<GateOutcome> {
  const started = deps.now();
  let readiness: (Readiness & { url: string; timeoutMs: number }) | undefined;
  if (config.readiness) {
    deps.log(
      `Waiting up to ${Math.round(config.readiness.timeoutMs / 1000)} s for ${config.readiness.url} to answer 2xx.`,
    );
    readiness = {
      ...(await waitUntilReady(config.readiness.url, config.readiness.timeoutMs, deps)),
      ...config.readiness,
    };
    deps.log(
      readiness.ready
        ? `Ready after ${Math.round(readiness.waitedMs / 1000)} s (${counted(readiness.polls, 'poll')}).`
        : `Not ready after ${counted(readiness.polls, 'poll')}: ${readiness.lastSeen}.`,
    );
  }

  const errors: TaskError[] = [];
  const asReason = (error: unknown): undefined => {
    if (error instanceof TaskError) errors.push(error);
    else throw error;
    return undefined;
  };
  const ready = !readiness || readiness.ready;
  const pool = new HostPool(config.concurrencyPerHost);
  const [checks, tests, health] = await Promise.all([
    ready
      ? runChecks(config.checks, config.baseUrl, config.retryFailed, {
          send: deps.send,
          pool,
          redact: deps.redact,
        })
      : [],
    ready && config.testCommand
      ? runTestCommand(
          { ...config.testCommand, baseUrl: config.baseUrl, retryFailed: config.retryFailed },
          deps,
        ).catch(asReason)
      : undefined,
    config.health ? config.health(deps).catch(asReason) : undefined,
  ]);
  if (ready) {
    deps.log(`Ran ${counted(checks.length, 'check')} in ${((deps.now() - started) / 1000).toFixed(1)} s.`);
    for (const check of checks.filter((c) => c.outcome !== 'passed')) {
      const attempts = check.attempts > 1 ? `, ${counted(check.attempts, 'attempt')}` : '';
      deps.log(
        deps.redact(
          `  ${check.outcome.toUpperCase()} ${check.name} (${check.source}${attempts}): ${check.failures.join('; ')}`,
        ),
      );
    }
  }

  const verdict = decideVerdict({
    baseUrl: config.baseUrl,
    minPassRate: config.minPassRate,
    ...(readiness ? { readiness } : {}),
    checks,
    tests: tests ?? [],
    ...(health ? { health } : {}),
  });
  const failures = [
    ...verdict.reasons.map((reason) => new TaskError(reason.key, reason.args)),
    ...errors,
  ].map((failure) => shortenArguments(failure, deps.redact));
  const reasons = failures.map((failure) => ({ key: failure.key, args: failure.args }));
  const finalVerdict: Verdict = withFailures(verdict, reasons);
  const issues = verdict.issues.map((issue) =>
    shortenArguments(new TaskError(issue.key, issue.args), deps.redact),
  );
  const localisedReasons = reasons.map((reason) => deps.localise(reason));
  const localisedIssues = issues.map((issue) => deps.localise(issue));

  const cases: TestCase[] = [
    ...(readiness && !readiness.ready ? [readinessCase(readiness)] : []),
    ...checks.map(checkCase),
    ...(tests ?? []),
  ];
  const junitXml = writeJUnit(cases, deps.redact, new Date(started));
  const summaryMarkdown = renderSummary(
    {
      verdict: finalVerdict,
      minPassRate: config.minPassRate,
      reasons: localisedReasons,
      issues: localisedIssues,
      checks,
      tests: tests ?? [],
      ...(health ? { health } : {}),
      ...(readiness ? { readinessNote: readinessNote(readiness) } : {}),
      ...(verdict.ran ? {} : { nothingRan: whyNothingRan(readiness, localisedReasons, verdict) }),
      target: { baseUrl: config.baseUrl, place: config.place ?? {} },
    },
    deps.redact,
  );
  return {
    verdict: finalVerdict,
    checks,
    tests: tests ?? [],
    ...(health ? { health } : {}),
    junitXml,
    summaryMarkdown,
    failures,
    issues,
  };
}

/** One sentence on why no check or test ran: the readiness wait, the test command's failure, or skips. */
function whyNothingRan(
  readiness: (Readiness & { url: string; timeoutMs: number }) | undefined,
  reasons: readonly string[],
  verdict: Verdict,
): string {
  if (readiness && !readiness.ready)
    return `${readiness.url} was not ready within ${Math.round(readiness.timeoutMs / 1000)} s, so no check or test ran`;
  if (verdict.counts.skipped > 0) return `all ${verdict.counts.skipped} tests were skipped`;
  const [first] = reasons;
  return first
    ? `no check or test result was counted (${first.replace(/\.$/, '')})`
    : 'only health was judged';
}

/** The suite checks are published under in the Tests tab. */
export const checksSuite = 'Acceptance checks';

function checkCase(check: CheckResult): TestCase {
  return {
    suite: checksSuite,
    classname: checksSuite,
    name: check.name,
    outcome: check.outcome,
    timeSeconds: check.latenciesMs.reduce((sum, ms) => sum + ms, 0) / 1000,
    attempts: check.attempts,
    ...(check.failures.length > 0
      ? {
          message: check.failures[0],
          details: `${check.url} (${check.source})\n${check.failures.join('\n')}`,
        }
      : {}),
  };
}

function readinessCase(readiness: Readiness & { url: string; timeoutMs: number }): TestCase {
  return {
    suite: checksSuite,
    classname: checksSuite,
    name: 'readiness',
    outcome: 'failed',
    timeSeconds: readiness.waitedMs / 1000,
    attempts: readiness.polls,
    message: `${readiness.url} was not ready within ${Math.round(readiness.timeoutMs / 1000)} s`,
  };
}

function readinessNote(readiness: Readiness & { url: string; timeoutMs: number }): string {
  return readiness.ready
    ? `Ready after ${Math.round(readiness.waitedMs / 1000)} s (${counted(readiness.polls, 'poll')} of ${readiness.url}).`
    : `Not ready within ${Math.round(readiness.timeoutMs / 1000)} s: no check ran.`;
}

/** An error line quotes at most this much of any one text (a service's message, a file's content). */
const quotedArgumentLength = 1000;

// A failure quotes texts from outside (a service's message, a test file): redacted, then cut to one line.
function shortenArguments(error: TaskError, redact: Redact): TaskError {
  if (!error.args.some((arg) => typeof arg === 'string')) return error;
  return new TaskError(
    error.key,
    error.args.map((arg) =>
      typeof arg === 'string' ? firstLineExcerpt(arg, quotedArgumentLength, redact) : arg,
    ),
    error.cause,
  );
}
