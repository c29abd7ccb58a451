import type { LogsTable } from '@azure/monitor-query-logs';
import { TaskError } from '../shared/task-error';

/**
 * The service's health in Azure Monitor, the pure half: the built-in query, the
 * thresholds and how the query's first row is judged against them. The query itself
 * runs in health-query.ts, loaded only when a workspace is set.
 */

/** The built-in query: failed-request rate and p95 duration from AppRequests (workspace-based Application Insights). */
export const defaultHealthQuery = [
  'AppRequests',
  '| summarize requests = count(), failedRatePercent = round(100.0 * countif(Success == false) / count(), 2),',
  '  p95DurationMs = round(percentile(DurationMs, 95), 1)',
].join('\n');

/** The built-in thresholds for the built-in query. */
export const defaultHealthThresholds = 'failedRatePercent <= 1\np95DurationMs <= 1000';

/** One threshold: a column of the query's first row, compared with a limit. */
export interface Threshold {
  readonly column: string;
  readonly operator: '<=' | '<' | '>=' | '>';
  readonly limit: number;
}

/** A figure read from the query, against its threshold. */
export interface HealthFigure {
  readonly name: string;
  /** Undefined when the query returned no row or an empty value: no traffic to judge. */
  readonly value?: number;
  readonly threshold: Threshold;
  readonly crossed: boolean;
}

/** What the health check found. */
export interface HealthReport {
  readonly target: string;
  readonly figures: readonly HealthFigure[];
}

/** Parses thresholds, one per line or comma-separated, such as "failedRatePercent <= 1". */
export function parseThresholds(text: string): Threshold[] {
  return text
    .split(/[\n,;]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)$/.exec(part);
      if (!match) throw new TaskError('HealthThresholdInvalid', [part]);
      return {
        column: match[1] as string,
        operator: match[2] as Threshold['operator'],
        limit: Number(match[3]),
      };
    });
}

/** Compares the first row of `table` with the thresholds. Pure. */
export function evaluateHealth(
  table: LogsTable | undefined,
  thresholds: readonly Threshold[],
  target: string,
): HealthReport {
  const columns = table?.columnDescriptors.map((column) => column.name ?? '') ?? [];
  const row = table?.rows[0];
  const figures = thresholds.map((threshold): HealthFigure => {
    const index = columns.indexOf(threshold.column);
    if (table && index < 0)
      throw new TaskError('HealthColumnMissing', [threshold.column, columns.join(', ') || 'none']);
    const raw = row?.[index];
    const value =
      typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : undefined;
    if (value === undefined || Number.isNaN(value))
      return { name: threshold.column, threshold, crossed: false };
    return { name: threshold.column, value, threshold, crossed: !holds(value, threshold) };
  });
  return { target, figures };
}

function holds(value: number, threshold: Threshold): boolean {
  switch (threshold.operator) {
    case '<=':
      return value <= threshold.limit;
    case '<':
      return value < threshold.limit;
    case '>=':
      return value >= threshold.limit;
    case '>':
      return value > threshold.limit;
  }
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
