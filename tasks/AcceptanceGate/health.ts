import { LogsQueryClient, LogsQueryResultStatus, type LogsTable } from '@azure/monitor-query-logs';
import type { TokenCredential } from '@azure/core-auth';
import { TaskError } from '../shared/task-error';

/**
 * The service's health in Azure Monitor: one KQL query over the window since the
 * deploy started, its first row compared with thresholds. The query runs with the
 * shared credential; failures become TaskErrors that say what to fix.
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

/** Runs the health query and evaluates it. `endpoint` is the Log Analytics API host, such as https://api.loganalytics.io. */
export async function queryHealth(
  credential: TokenCredential,
  options: { readonly endpoint: string; readonly clientOptions?: object },
  target: HealthTarget,
  query: string,
  window: { readonly startTime: Date; readonly endTime: Date },
  thresholds: readonly Threshold[],
): Promise<HealthReport> {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const client = new LogsQueryClient(credential, {
    ...options.clientOptions,
    endpoint: `${endpoint}/v1`,
    // The token's audience is the API host itself; the SDK would otherwise ask for the public cloud's.
    credentials: { scopes: [`${new URL(endpoint).origin.replace(/:\d+$/, '')}/.default`] },
  });
  const label = 'workspaceId' in target ? `workspace ${target.workspaceId}` : target.resourceId;
  let result;
  try {
    result =
      'workspaceId' in target
        ? await client.queryWorkspace(target.workspaceId, query, window)
        : // The SDK puts the id after "/v1/" as given; a leading slash would make "/v1//subscriptions".
          await client.queryResource(target.resourceId.replace(/^\/+/, ''), query, window);
  } catch (error) {
    // Without a status the request never reached the API: sign-in failed, which the shell explains.
    if (typeof (error as { statusCode?: unknown }).statusCode !== 'number') throw error;
    throw healthQueryError(error, label);
  }
  if (result.status !== LogsQueryResultStatus.Success) {
    throw new TaskError('HealthQueryPartial', [
      label,
      firstLine(result.partialError?.message ?? 'partial result'),
    ]);
  }
  return evaluateHealth(result.tables[0], thresholds, label);
}

/** Maps a Log Analytics failure to the line the user needs: a bad query, no access, or no such workspace. */
export function healthQueryError(error: unknown, label: string): TaskError {
  const statusCode = (error as { statusCode?: number }).statusCode;
  const details = (error as { details?: { error?: ApiError } }).details?.error;
  const innermost = innermostMessage(details) ?? (error instanceof Error ? error.message : String(error));
  if (statusCode === 400) return new TaskError('HealthQueryInvalid', [label, firstLine(innermost)], error);
  if (statusCode === 401 || statusCode === 403) return new TaskError('HealthQueryForbidden', [label], error);
  if (statusCode === 404) return new TaskError('HealthTargetNotFound', [label], error);
  return new TaskError('HealthQueryFailed', [label, firstLine(innermost)], error);
}

interface ApiError {
  readonly message?: string;
  readonly code?: string;
  readonly innererror?: ApiError;
  readonly innerError?: ApiError;
}

// The service nests the useful text: "BadArgumentError" › "SyntaxError" › "Query could not be parsed at …".
function innermostMessage(error: ApiError | undefined): string | undefined {
  let current = error;
  let message = error?.message;
  while (current) {
    if (current.message) message = current.message;
    current = current.innererror ?? current.innerError;
  }
  return message;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
