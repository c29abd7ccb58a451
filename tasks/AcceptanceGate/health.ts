import { TaskError } from '../shared/task-error';
import type { Limit, MetricThreshold } from './health-thresholds';

/**
 * The release's health in Azure Monitor, the pure half: the default thresholds, how one
 * metric's value is judged against its pass and warning lines, and the score. The queries
 * run in health-watch.ts (when, how often) and health-query.ts (the wire).
 */

/** The thresholds when healthThresholds is empty: Application Insights always, Container Insights with the cluster scope. */
export function defaultThresholds(withClusterScope: boolean): string {
  return [
    'failedRatePercent <= 1',
    'p95DurationMs <= 1000',
    ...(withClusterScope
      ? ['restarts <= 0', 'oomKilled <= 0', 'podsNotReady <= 0', 'errorLogLines: pass <= 0, warn <= 5']
      : []),
  ].join('\n');
}

/** A metric's outcome: Inconclusive when no data arrived within the wait. */
export type MetricOutcome = 'Passed' | 'Warning' | 'Failed' | 'Inconclusive';

/** Where a metric's value came from. */
export type MetricSource = 'Container Insights' | 'Application Insights' | 'healthQuery';

/** What the queries found for one metric. */
export interface MetricReading {
  /** Undefined when no data arrived. */
  readonly value?: number;
  /** Rows the value was computed from, when the query says. */
  readonly samples?: number;
  /** The same metric over the previous release's window, for relative limits. */
  readonly baseline?: number;
}

/** One metric, judged. */
export interface MetricResult extends MetricReading {
  readonly name: string;
  readonly source: MetricSource;
  readonly threshold: MetricThreshold;
  /** The pass and warning limits as numbers, once a relative one has its baseline. */
  readonly passLimit?: number;
  readonly warnLimit?: number;
  readonly outcome: MetricOutcome;
  /** Why it is Inconclusive: no data, or no baseline for a relative limit. */
  readonly missing?: 'data' | 'baseline';
}

/** What the health part of the gate found. */
export interface HealthReport {
  /** The workspace or resource queried, for the summary. */
  readonly target: string;
  readonly metrics: readonly MetricResult[];
  /** 0 to 100, one decimal: see healthScore. */
  readonly score: number;
  /** How long the gate waited for data, at most. */
  readonly waitMinutes: number;
  /** What the queries were scoped to, for the lines that say what to check when data is missing. */
  readonly scope: {
    readonly cluster?: string;
    readonly namespace?: string;
    readonly roleName?: string;
    readonly version?: string;
  };
}

/** Judges one metric: Passed on its pass line, Warning on its warning line, else Failed; Inconclusive without data. */
export function judgeMetric(
  threshold: MetricThreshold,
  source: MetricSource,
  reading: MetricReading,
): MetricResult {
  const passLimit = resolveLimit(threshold.pass, reading.baseline);
  const warnLimit = threshold.warn ? resolveLimit(threshold.warn, reading.baseline) : undefined;
  const known = {
    name: threshold.metric,
    source,
    threshold,
    ...reading,
    ...(passLimit !== undefined ? { passLimit } : {}),
    ...(warnLimit !== undefined ? { warnLimit } : {}),
  };
  if (reading.value === undefined) return { ...known, outcome: 'Inconclusive', missing: 'data' };
  if (passLimit === undefined || (threshold.warn && warnLimit === undefined))
    return { ...known, outcome: 'Inconclusive', missing: 'baseline' };
  if (holds(reading.value, threshold.pass.operator, passLimit)) return { ...known, outcome: 'Passed' };
  if (threshold.warn && warnLimit !== undefined && holds(reading.value, threshold.warn.operator, warnLimit))
    return { ...known, outcome: 'Warning' };
  return { ...known, outcome: 'Failed' };
}

// "+10%" of a baseline of 200 ms is 220 ms; without a baseline a relative limit has no value.
function resolveLimit(limit: Limit, baseline: number | undefined): number | undefined {
  if (!limit.relative) return limit.value;
  if (baseline === undefined) return undefined;
  return Math.round(baseline * (1 + limit.value / 100) * 10_000) / 10_000;
}

function holds(value: number, operator: Limit['operator'], limit: number): boolean {
  switch (operator) {
    case '<=':
      return value <= limit;
    case '<':
      return value < limit;
    case '>=':
      return value >= limit;
    case '>':
      return value > limit;
  }
}

const credit: Record<MetricOutcome, number> = { Passed: 1, Warning: 0.5, Failed: 0, Inconclusive: 0 };

/**
 * 100 × Σ weight × (1 Passed, 0.5 Warning, 0 Failed) / Σ weight, over the metrics that
 * have an outcome (Inconclusive ones left out), to one decimal; 0 when none has.
 */
export function healthScore(results: readonly MetricResult[]): number {
  const judged = results.filter((result) => result.outcome !== 'Inconclusive');
  const weights = judged.reduce((sum, result) => sum + result.threshold.weight, 0);
  if (weights === 0) return 0;
  const earned = judged.reduce((sum, result) => sum + result.threshold.weight * credit[result.outcome], 0);
  return Math.round((1000 * earned) / weights) / 10;
}

/** Where the query runs: a workspace id (a GUID), or an Application Insights resource id. */
export type HealthTarget = { readonly workspaceId: string } | { readonly resourceId: string };

/** Reads the target input: a resource id starts with /subscriptions/; anything else must be a workspace GUID. */
export function parseHealthTarget(value: string): HealthTarget {
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+/i.test(value))
    return { resourceId: value };
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    return { workspaceId: value };
  throw new TaskError('HealthTargetInvalid', [value]);
}

/** The Log Analytics API host of each known cloud; others must set logAnalyticsEndpoint. */
export const logAnalyticsEndpoints: Readonly<Record<string, string>> = {
  azurecloud: 'https://api.loganalytics.io',
  azureusgovernment: 'https://api.loganalytics.us',
  azurechinacloud: 'https://api.loganalytics.azure.cn',
};
