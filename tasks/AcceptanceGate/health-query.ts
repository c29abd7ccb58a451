import { LogsQueryClient, LogsQueryResultStatus } from '@azure/monitor-query-logs';
import type { TokenCredential } from '@azure/core-auth';
import { TaskError } from '../shared/task-error';
import type { HealthTarget } from './health';
import type { QueryTable, RunQuery } from './health-watch';

/**
 * Runs health queries against Log Analytics with the shared credential, and turns the
 * service's failures into TaskErrors that say what to fix. Loaded on demand: the Azure
 * SDK is most of the bundle, and a gate without a workspace never needs it. Transient
 * faults (429 with Retry-After, 5xx, dropped connections) are retried by the SDK's
 * pipeline with the policy in `clientOptions`.
 */

/** A RunQuery for one workspace or resource. `endpoint` is the Log Analytics API host, such as https://api.loganalytics.io. */
export function createLogsQuery(
  credential: TokenCredential,
  options: { readonly endpoint: string; readonly clientOptions?: object },
  target: HealthTarget,
): RunQuery {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const client = new LogsQueryClient(credential, {
    ...options.clientOptions,
    endpoint: `${endpoint}/v1`,
    // The token's audience is the API host itself; the SDK would otherwise ask for the public cloud's.
    credentials: { scopes: [`${new URL(endpoint).origin.replace(/:\d+$/, '')}/.default`] },
  });
  const label = healthTargetLabel(target);
  return async (query, window): Promise<QueryTable> => {
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
    const table = result.tables[0];
    return {
      columns: table?.columnDescriptors.map((column) => column.name ?? '') ?? [],
      rows: table?.rows ?? [],
    };
  };
}

/** "workspace 7f3c…", or the resource id: how lines and the summary name the target. */
export function healthTargetLabel(target: HealthTarget): string {
  return 'workspaceId' in target ? `workspace ${target.workspaceId}` : target.resourceId;
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
