import type { CheckResult } from './check-runner';
import type { HealthReport } from './health';
import type { TestCase } from './junit';
import type { Readiness } from './readiness';
import { counted as countOf, metricValue, metricWords, percent } from '../shared/wording';

/**
 * The gate's decision. Pure: the results in, pass or fail out, with one reason per
 * thing that failed, each a message key and its arguments so the shell can report
 * it as a localised line.
 */

/** One reason the gate failed. */
export interface Reason {
  readonly key: string;
  readonly args: readonly (string | number)[];
}

/** Counts over checks and tests together. */
export interface Counts {
  readonly passed: number;
  readonly flaky: number;
  readonly failed: number;
  readonly skipped: number;
}

/** The verdict and what it was made of. */
export interface Verdict {
  readonly passed: boolean;
  /**
   * Percentage of checks and tests (skipped ones aside) that passed, flaky ones included;
   * 0 when none ran, so that a condition on it never passes a gate that checked nothing.
   */
  readonly passRate: number;
  /** False when no check or test ran to a result (readiness timed out, no fresh results, all skipped). */
  readonly ran: boolean;
  readonly counts: Counts;
  readonly reasons: readonly Reason[];
}

/** Everything the verdict looks at. */
export interface VerdictInput {
  readonly baseUrl: string;
  readonly minPassRate: number;
  readonly readiness?: Readiness & { readonly url: string; readonly timeoutMs: number };
  readonly checks: readonly CheckResult[];
  readonly tests: readonly TestCase[];
  readonly health?: HealthReport;
}

const namesListed = 10;

/** Decides the verdict. */
export function decideVerdict(input: VerdictInput): Verdict {
  const outcomes = [
    ...input.checks.map((check) => check.outcome),
    ...input.tests.map((test) => test.outcome),
  ];
  const counts: Counts = {
    passed: outcomes.filter((o) => o === 'passed').length,
    flaky: outcomes.filter((o) => o === 'flaky').length,
    failed: outcomes.filter((o) => o === 'failed').length,
    skipped: outcomes.filter((o) => o === 'skipped').length,
  };
  const counted = counts.passed + counts.flaky + counts.failed;
  const passRate = counted === 0 ? 0 : Math.floor((10_000 * (counts.passed + counts.flaky)) / counted) / 100;
  const reasons: Reason[] = [];

  if (input.readiness && !input.readiness.ready) {
    reasons.push({
      key: 'ReadinessTimedOut',
      args: [
        input.readiness.url,
        Math.round(input.readiness.timeoutMs / 1000),
        countOf(input.readiness.polls, 'poll'),
        input.readiness.lastSeen,
      ],
    });
  }
  const baseHost = safeHost(input.baseUrl);
  const onBase = input.checks.filter((check) => safeHost(check.url) === baseHost);
  if (onBase.length > 0 && onBase.every((check) => check.unreachable)) {
    reasons.push({ key: 'BaseUrlUnreachable', args: [input.baseUrl, onBase[0]?.failures[0] ?? 'no answer'] });
  }
  if (counted === 0 && counts.skipped > 0) {
    reasons.push({ key: 'AllSkipped', args: [counts.skipped] });
  }
  // With nothing counted there is no rate to hold against the minimum; the reasons above say why.
  if (counted > 0 && passRate < input.minPassRate) {
    const failed = [
      ...input.checks
        .filter((c) => c.outcome === 'failed')
        .map((c) => `${c.name} (${c.failures[0] ?? 'failed'})`),
      ...input.tests.filter((t) => t.outcome === 'failed').map((t) => `${t.classname} › ${t.name}`),
    ];
    const listed =
      failed.slice(0, namesListed).join('; ') +
      (failed.length > namesListed ? `; and ${failed.length - namesListed} more` : '');
    reasons.push({
      key: 'PassRateBelowMinimum',
      args: [percent(passRate), percent(input.minPassRate), counts.failed, counted, listed],
    });
  }
  for (const figure of input.health?.figures ?? []) {
    if (figure.crossed) {
      reasons.push({
        key: 'HealthThresholdCrossed',
        args: [
          metricWords(figure.name),
          figure.name,
          figure.value === undefined ? 'no data' : metricValue(figure.name, figure.value),
          figure.threshold.operator,
          metricValue(figure.name, figure.threshold.limit),
        ],
      });
    }
  }
  return { passed: reasons.length === 0, passRate, ran: counted > 0, counts, reasons };
}

function safeHost(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).host : undefined;
}
