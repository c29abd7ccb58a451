import { LogsQueryClient, LogsQueryResultStatus } from '@azure/monitor-query-logs';
import type { TokenCredential } from '@azure/core-auth';
import { TaskError } from '../shared/task-error';
import { evaluateHealth, type HealthReport, type HealthTarget, type Threshold } from './health';

/**
 * Runs the health query against Log Analytics with the shared credential, and turns
 * the service's failures into TaskErrors that say what to fix. Loaded on demand: the
 * Azure SDK is most of the bundle, and a gate without a workspace never needs it.
 */

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
    // Messages are quoted whole; the gate redacts them, then cuts them to one line (run.ts).
    throw new TaskError('HealthQueryPartial', [label, result.partialError?.message ?? 'partial result']);
  }
  return evaluateHealth(result.tables[0], thresholds, label);
}

/** Maps a Log Analytics failure to the line the user needs: a bad query, no access, or no such workspace. */
export function healthQueryError(error: unknown, label: string): TaskError {
  const statusCode = (error as { statusCode?: number }).statusCode;
  const details = (error as { details?: { error?: ApiError } }).details?.error;
  const innermost = innermostMessage(details) ?? (error instanceof Error ? error.message : String(error));
  if (statusCode === 400) return new TaskError('HealthQueryInvalid', [label, innermost], error);
  if (statusCode === 401 || statusCode === 403) return new TaskError('HealthQueryForbidden', [label], error);
  if (statusCode === 404) return new TaskError('HealthTargetNotFound', [label], error);
  return new TaskError('HealthQueryFailed', [label, innermost], error);
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
