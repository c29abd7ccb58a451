import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EmulatedCluster } from './kubernetes/cluster';
import {
  startContainerInsights,
  type ContainerInsightsFeed,
  type ContainerInsightsOptions,
} from './kubernetes/container-insights';
import {
  asString,
  evaluateQuery,
  formatTimespan,
  KqlSemanticError,
  type Table,
} from './log-analytics/kql-evaluator';
import { KqlSyntaxError, parseQuery, UnsupportedOperator } from './log-analytics/kql-parser';
import { tableSchemas, type KqlType } from './log-analytics/tables';
import { Workspace, type TimeWindow } from './log-analytics/workspace';
import type { EmulatedRequest, EmulatedResponse, Handler } from './types';

/**
 * Emulated Log Analytics query API, as LogsQueryClient calls it. Its host is
 * loganalytics.azure.test: one label under azure.test, which the front's *.azure.test
 * certificate covers. It serves `POST /v1/workspaces/{id}/query` and, for an Application Insights or other
 * resource, `POST /v1{resourceId}/query`, each with `{query, timespan}` and a bearer
 * token for the API's audience. A workspace made with `addWorkspace` (or `attachCluster`,
 * `recordRequest`, `ingest`) holds real tables (log-analytics/tables.ts) and runs the KQL
 * it is sent (log-analytics/kql-evaluator.ts), over the rows whose ingestion has completed
 * (`ingestionDelayMs`) within the request's timespan; a target given a fixed answer with
 * `setResult` answers it whatever the query. Either way it rejects what the service would,
 * with the service's error shapes: a query that does not parse, an unknown table or column,
 * no token, an unknown workspace.
 * https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format
 */

/** A column as the API describes it. */
export interface LogColumn {
  readonly name: string;
  readonly type: KqlType;
}

/** The answer a workspace gives: one primary table. */
export interface LogResult {
  readonly columns: readonly LogColumn[];
  readonly rows: readonly (readonly unknown[])[];
}

/** One query the emulator received, for assertions. */
export interface ReceivedQuery {
  readonly target: string;
  readonly query: string;
  readonly timespan?: string;
}

/** Checks a bearer token; returns false to answer 401. Pass Entra's verifyAccessToken. */
export type TokenCheck = (token: string, audience: string) => unknown;

/** The emulated Log Analytics API. */
export class EmulatedLogAnalytics {
  /**
   * Tables a query sent to a fixed answer (`setResult`) may name: the real tables' and the
   * classic Application Insights names; others are a semantic error.
   */
  readonly tables = new Set([...tableSchemas.keys(), 'requests', 'exceptions', 'dependencies']);
  readonly queries: ReceivedQuery[] = [];
  /** How long rows take to become visible to queries after they are written (ms). */
  ingestionDelayMs: number;
  /**
   * How long every query takes to answer (ms), its evaluation included. The service
   * evaluates on its own machines while the client waits; the emulator evaluates within
   * this time too, so its one thread's work is not counted as the client's.
   */
  latencyMs: number;
  private readonly results = new Map<string, LogResult>();
  private readonly workspaces = new Map<string, Workspace>();
  private readonly feeds: ContainerInsightsFeed[] = [];
  private readonly now: () => number;
  readonly handler: Handler = (request) => this.answer(request);

  /**
   * `audience`: the API's token audience, e.g. https://loganalytics.azure.test. Faults
   * (429, 5xx, dropped connections) are the front's: `azure.injectFault` with a match on
   * this host.
   */
  constructor(
    private readonly checkToken: TokenCheck,
    readonly audience = 'https://loganalytics.azure.test',
    options: {
      readonly ingestionDelayMs?: number;
      readonly latencyMs?: number;
      readonly now?: () => number;
    } = {},
  ) {
    this.ingestionDelayMs = options.ingestionDelayMs ?? 0;
    this.latencyMs = options.latencyMs ?? 0;
    this.now = options.now ?? (() => Date.now());
  }

  /** Creates (or replaces) a workspace or resource and what its queries return. */
  setResult(workspaceOrResourceId: string, result: LogResult): void {
    this.results.set(workspaceOrResourceId.toLowerCase(), result);
  }

  /** The workspace of that id, created empty (every table known, no rows) the first time. */
  addWorkspace(workspaceId: string): Workspace {
    let workspace = this.workspaces.get(workspaceId.toLowerCase());
    if (!workspace) this.workspaces.set(workspaceId.toLowerCase(), (workspace = new Workspace(workspaceId)));
    return workspace;
  }

  /** Writes rows to a table of a workspace, visible once the ingestion delay has passed. */
  ingest(workspaceId: string, table: string, records: readonly Record<string, unknown>[]): void {
    const now = this.now();
    this.addWorkspace(workspaceId).ingest(table, records, now, now + this.ingestionDelayMs);
  }

  /**
   * Records a request the app served, as workspace-based Application Insights writes it to
   * AppRequests; Id, TimeGenerated, ItemCount and Success (from ResultCode) are filled in.
   */
  recordRequest(workspaceId: string, request: Readonly<Record<string, unknown>>): void {
    const resultCode = String(request.ResultCode ?? '200');
    this.ingest(workspaceId, 'AppRequests', [
      {
        Id: randomUUID().replace(/-/g, '').slice(0, 16),
        ItemCount: 1,
        ResultCode: resultCode,
        Success: Number(resultCode) < 400,
        ...request,
      },
    ]);
  }

  /** Records an exception the app reported, as AppExceptions holds it. */
  recordException(workspaceId: string, exception: Readonly<Record<string, unknown>>): void {
    this.ingest(workspaceId, 'AppExceptions', [
      { ItemCount: 1, SeverityLevel: 3, ProblemId: String(exception.ExceptionType ?? ''), ...exception },
    ]);
  }

  /**
   * Sends a cluster's Container Insights data to a workspace (KubePodInventory, KubeEvents,
   * ContainerLogV2, Perf), collected from what the cluster really does, every
   * `collectionIntervalMs`; each collection is visible after the ingestion delay.
   */
  attachCluster(
    workspaceId: string,
    cluster: EmulatedCluster,
    options: Omit<ContainerInsightsOptions, 'now'>,
  ): ContainerInsightsFeed {
    this.addWorkspace(workspaceId);
    const feed = startContainerInsights(
      cluster,
      (table, records) => this.ingest(workspaceId, table, records),
      { ...options, now: this.now },
    );
    this.feeds.push(feed);
    return feed;
  }

  /** Stops every cluster feed. */
  stop(): void {
    for (const feed of this.feeds.splice(0)) feed.stop();
  }

  private async answer(request: EmulatedRequest): Promise<EmulatedResponse | undefined> {
    const path = decodeURIComponent(request.url.pathname);
    const match =
      /^\/v1\/workspaces\/([^/]+)\/query$/i.exec(path) ?? /^\/v1(\/subscriptions\/.+)\/query$/i.exec(path);
    if (!match) return undefined;
    if (request.method !== 'POST')
      return apiError(405, 'MethodNotAllowed', `The method ${request.method} is not allowed.`);
    const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !this.checkToken(token, this.audience)) {
      return apiError(
        401,
        'InvalidTokenError',
        'The provided authentication is not valid for this resource.',
        {
          code: 'TokenMissingOrInvalid',
          message: 'Valid authentication was not provided.',
        },
      );
    }
    const target = match[1] as string;
    const result = this.results.get(target.toLowerCase());
    const workspace = this.workspaces.get(target.toLowerCase());
    if (!result && !workspace) {
      return target.startsWith('/')
        ? apiError(404, 'ResourceNotFoundError', `The resource ${target} was not found.`)
        : apiError(404, 'WorkspaceNotFoundError', `Workspace ${target} was not found.`);
    }
    let body: { query?: unknown; timespan?: unknown };
    try {
      body = JSON.parse(request.body.toString('utf8')) as typeof body;
    } catch {
      return apiError(400, 'BadArgumentError', 'The request body is not valid JSON.');
    }
    if (typeof body.query !== 'string' || body.query.trim() === '') {
      return apiError(400, 'BadArgumentError', 'The request had some invalid properties', {
        code: 'QueryValidationError',
        message: 'The query is empty.',
      });
    }
    this.queries.push({
      target,
      query: body.query,
      ...(typeof body.timespan === 'string' ? { timespan: body.timespan } : {}),
    });
    const due = performance.now() + this.latencyMs;
    if (result) {
      return answerAt(
        due,
        this.checkSyntax(body.query) ?? {
          status: 200,
          body: { tables: [{ name: 'PrimaryResult', columns: result.columns, rows: result.rows }] },
        },
      );
    }
    const now = this.now();
    let window: TimeWindow | undefined;
    if (typeof body.timespan === 'string') {
      window = parseTimespan(body.timespan, now);
      if (!window) {
        return answerAt(
          due,
          apiError(400, 'BadArgumentError', 'The request had some invalid properties', {
            code: 'InvalidTimespan',
            message: `The timespan '${body.timespan}' is not a valid ISO 8601 interval.`,
          }),
        );
      }
    }
    return answerAt(due, this.evaluate(workspace!, body.query, now, window));
  }

  private evaluate(workspace: Workspace, query: string, now: number, window?: TimeWindow): EmulatedResponse {
    let table: Table;
    try {
      table = evaluateQuery(parseQuery(query), { now, table: (name) => workspace.view(name, now, window) });
    } catch (error) {
      if (error instanceof KqlSyntaxError) return syntaxError(query, error.offset, error.token);
      if (error instanceof KqlSemanticError) return semanticError(error.code, error.message);
      if (error instanceof UnsupportedOperator) return semanticError('EMULATOR0001', error.message);
      throw error;
    }
    return {
      status: 200,
      body: {
        tables: [
          {
            name: 'PrimaryResult',
            columns: table.columns.map(({ name, type }) => ({ name, type })),
            rows: table.rows.map((row) =>
              row.map((value, index) => wireValue(value, table.columns[index]!.type)),
            ),
          },
        ],
      },
    };
  }

  // A fixed answer still needs a query the service would take: one that parses (operators
  // this emulator does not evaluate included) over tables the workspace has.
  private checkSyntax(query: string): EmulatedResponse | undefined {
    try {
      const unknown = parseQuery(query).tables.find((table) => !this.tables.has(table.name));
      if (unknown) {
        return semanticError(
          'SEM0100',
          `'${unknown.name}' operator: Failed to resolve table or column expression named '${unknown.name}'`,
        );
      }
    } catch (error) {
      if (error instanceof KqlSyntaxError) return syntaxError(query, error.offset, error.token);
      if (!(error instanceof UnsupportedOperator)) throw error;
    }
    return undefined;
  }
}

function syntaxError(query: string, offset: number, token: string): EmulatedResponse {
  const before = query.slice(0, offset).split('\n');
  const line = before.length;
  const pos = (before[before.length - 1] ?? '').length;
  return apiError(400, 'BadArgumentError', 'The request had some invalid properties', {
    code: 'SyntaxError',
    message: 'A recognition error occurred in the query.',
    innererror: {
      code: 'SYN0002',
      message: `Query could not be parsed at '${token}' on line [${line},${pos}]`,
      line,
      pos,
      token,
    },
  });
}

function apiError(status: number, code: string, message: string, innererror?: object): EmulatedResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: { error: { message, code, correlationId: randomUUID(), ...(innererror ? { innererror } : {}) } },
  };
}

function semanticError(code: string, message: string): EmulatedResponse {
  return apiError(400, 'BadArgumentError', 'The request had some invalid properties', {
    code: 'SemanticError',
    message: 'A semantic error occurred.',
    innererror: { code, message },
  });
}

// A value as the query API's JSON carries it: datetimes as ISO 8601 text, timespans as
// [d.]hh:mm:ss, dynamic values as their JSON text, reals that are not finite as "NaN" or
// "Infinity" (https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format).
function wireValue(value: unknown, type: KqlType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'datetime':
      return typeof value === 'number' ? new Date(value).toISOString() : value;
    case 'timespan':
      return typeof value === 'number' ? formatTimespan(value) : value;
    case 'dynamic':
      return typeof value === 'string' ? value : asString(value);
    case 'real':
      return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
    default:
      return value;
  }
}

// The request's timespan: an ISO 8601 interval (start/end, start/duration, duration/end) or
// a duration ending now.
function parseTimespan(text: string, now: number): TimeWindow | undefined {
  const parts = text.split('/');
  if (parts.length === 1) {
    const duration = parseDuration(parts[0]!);
    return duration === undefined ? undefined : { start: now - duration, end: now };
  }
  if (parts.length !== 2) return undefined;
  const [first, second] = parts as [string, string];
  const start = Date.parse(first);
  const end = Date.parse(second);
  if (!Number.isNaN(start) && !Number.isNaN(end)) return { start, end };
  if (!Number.isNaN(start)) {
    const duration = parseDuration(second);
    return duration === undefined ? undefined : { start, end: start + duration };
  }
  const duration = parseDuration(first);
  return duration === undefined || Number.isNaN(end) ? undefined : { start: end - duration, end };
}

function parseDuration(text: string): number | undefined {
  const match =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text,
    );
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  return ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000;
}

/** Holds a response until `due` (a performance.now() time), then gives it. */
async function answerAt(due: number, response: EmulatedResponse): Promise<EmulatedResponse> {
  const left = due - performance.now();
  if (left > 0) await sleep(left);
  return response;
}
