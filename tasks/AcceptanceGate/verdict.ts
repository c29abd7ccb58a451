import type { CheckResult } from './check-runner';
import type { HealthReport, MetricResult } from './health';
import { describeLimit, type Limit } from './health-thresholds';
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

/** The gate's verdict: Failed fails the task; Warning and Inconclusive succeed with issues. */
export type GateVerdict = 'Passed' | 'Warning' | 'Inconclusive' | 'Failed';

/** The verdict and what it was made of. */
export interface Verdict {
  /** False when the verdict is Failed. */
  readonly passed: boolean;
  readonly outcome: GateVerdict;
  /** The health score, 0 to 100 (healthScore); 0 when no metric had data or health was not judged. */
  readonly score: number;
  /**
   * Percentage of checks and tests (skipped ones aside) that passed, flaky ones included;
   * 0 when none ran, so that a condition on it never passes a gate that checked nothing.
   */
  readonly passRate: number;
  /** False when no check or test ran to a result (readiness timed out, no fresh results, all skipped). */
  readonly ran: boolean;
  readonly counts: Counts;
  readonly reasons: readonly Reason[];
  /** Why the verdict is Warning or Inconclusive: one per metric that missed its pass line or had no data. */
  readonly issues: readonly Reason[];
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
  const issues: Reason[] = [];
  for (const metric of input.health?.metrics ?? []) {
    const said = metricReason(metric, input.health as HealthReport);
    if (!said) continue;
    if (metric.outcome === 'Failed') reasons.push(said);
    else issues.push(said);
  }
  const healthOutcomes = new Set(input.health?.metrics.map((metric) => metric.outcome));
  const outcome: GateVerdict =
    reasons.length > 0
      ? 'Failed'
      : healthOutcomes.has('Inconclusive')
        ? 'Inconclusive'
        : healthOutcomes.has('Warning')
          ? 'Warning'
          : 'Passed';
  return {
    passed: reasons.length === 0,
    outcome,
    score: input.health?.score ?? 0,
    passRate,
    ran: counted > 0,
    counts,
    reasons,
    issues,
  };
}

/** The verdict's outcome once failures found outside it (a health query rejected, a test command missing) are added. */
export function withFailures(verdict: Verdict, reasons: readonly Reason[]): Verdict {
  return reasons.length === 0 ? verdict : { ...verdict, passed: false, outcome: 'Failed', reasons };
}

// One line per metric that did not pass: what it is, what it was, and the line it missed or why it has no value.
function metricReason(metric: MetricResult, health: HealthReport): Reason | undefined {
  const words = metricWords(metric.name);
  const value = metric.value === undefined ? '' : metricValue(metric.name, metric.value);
  switch (metric.outcome) {
    case 'Passed':
      return undefined;
    case 'Failed':
      return { key: 'HealthMetricFailed', args: [words, metric.name, value, thresholdLines(metric)] };
    case 'Warning':
      return {
        key: 'HealthMetricWarning',
        args: [words, metric.name, value, limitText(metric, metric.threshold.pass, metric.passLimit)],
      };
    case 'Inconclusive':
      return metric.missing === 'baseline'
        ? { key: 'HealthMetricNoBaseline', args: [words, metric.name] }
        : {
            key: 'HealthMetricNoData',
            args: [
              words,
              metric.name,
              health.waitMinutes === 0
                ? '0 minutes (healthWaitMinutes is 0: the gate did not wait)'
                : countOf(health.waitMinutes, 'minute'),
              whatToCheck(metric, health),
            ],
          };
  }
}

/** "pass <= 1%, warn <= 3%": a metric's lines as the user wrote them, relative ones with their value. */
export function thresholdLines(metric: MetricResult): string {
  const pass = `pass ${limitText(metric, metric.threshold.pass, metric.passLimit)}`;
  const warn = metric.threshold.warn
    ? `, warn ${limitText(metric, metric.threshold.warn, metric.warnLimit)}`
    : '';
  return pass + warn;
}

/** "<= 1%", or for a relative limit "<= +10% (220 ms)". */
export function limitText(metric: MetricResult, limit: Limit, resolved: number | undefined): string {
  if (!limit.relative) return `${limit.operator} ${metricValue(metric.name, limit.value)}`;
  return `${describeLimit(limit)}${resolved === undefined ? '' : ` (${metricValue(metric.name, resolved)})`}`;
}

/** What to look at when a metric had no data: the source's usual causes, with the names the gate used. */
export function whatToCheck(metric: MetricResult, health: HealthReport): string {
  const { scope } = health;
  if (metric.source === 'Container Insights')
    return `that Container Insights is enabled on cluster ${scope.cluster ?? '(clusterName)'} and sends to this workspace, and that podTemplateHash names this release's pods in namespace ${scope.namespace ?? '(namespace)'}`;
  if (metric.source === 'Application Insights') {
    const filters = [
      ...(scope.roleName ? [`AppRoleName '${scope.roleName}' (appRoleName)`] : []),
      ...(scope.version ? [`AppVersion '${scope.version}' (appVersion)`] : []),
    ];
    return `that the app sends its telemetry to this workspace${filters.length > 0 ? ` with ${filters.join(' and ')}` : ''}, and that it served requests since healthWindowStart`;
  }
  return 'that healthQuery returns a row with a value for the window since healthWindowStart';
}

function safeHost(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).host : undefined;
}
