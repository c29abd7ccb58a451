import { randomUUID } from 'node:crypto';
import type { EmulatedRequest, EmulatedResponse, Handler } from './types';

/**
 * Emulated Log Analytics query API, as LogsQueryClient calls it. Its host is
 * loganalytics.azure.test: one label under azure.test, which the front's *.azure.test
 * certificate covers. It serves `POST /v1/workspaces/{id}/query` and, for an Application Insights or other
 * resource, `POST /v1{resourceId}/query`, each with `{query, timespan}` and a bearer
 * token for the API's audience. It does not run KQL: tests decide each workspace's
 * answer. It does reject what the service would, with the service's error shapes: a
 * query that does not parse, an unknown table, no token, an unknown workspace.
 * https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format
 */

/** A column as the API describes it. */
export interface LogColumn {
  readonly name: string;
  readonly type: 'string' | 'real' | 'long' | 'int' | 'datetime' | 'bool' | 'dynamic' | 'timespan' | 'guid';
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

// The first word after each pipe. A real parser knows many more; these cover what the gate's users write.
const knownOperators = new Set([
  'where',
  'summarize',
  'extend',
  'project',
  'project-away',
  'project-rename',
  'take',
  'limit',
  'top',
  'order',
  'sort',
  'count',
  'distinct',
  'join',
  'union',
  'parse',
  'mv-expand',
  'make-series',
  'render',
  'as',
  'lookup',
  'evaluate',
  'sample',
  'search',
  'serialize',
  'invoke',
  'getschema',
]);

/** The emulated Log Analytics API. */
export class EmulatedLogAnalytics {
  /** Tables a query may start from (AppRequests, requests, …); others are a semantic error. */
  readonly tables = new Set([
    'AppRequests',
    'AppExceptions',
    'AppDependencies',
    'requests',
    'exceptions',
    'dependencies',
    'Heartbeat',
  ]);
  readonly queries: ReceivedQuery[] = [];
  private readonly results = new Map<string, LogResult>();
  readonly handler: Handler = (request) => this.answer(request);

  /** `audience`: the API's token audience, e.g. https://loganalytics.azure.test. */
  constructor(
    private readonly checkToken: TokenCheck,
    readonly audience = 'https://loganalytics.azure.test',
  ) {}

  /** Creates (or replaces) a workspace or resource and what its queries return. */
  setResult(workspaceOrResourceId: string, result: LogResult): void {
    this.results.set(workspaceOrResourceId.toLowerCase(), result);
  }

  private answer(request: EmulatedRequest): EmulatedResponse | undefined {
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
    if (!result) {
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
    const problem = this.checkSyntax(body.query);
    if (problem) return problem;
    return {
      status: 200,
      body: { tables: [{ name: 'PrimaryResult', columns: result.columns, rows: result.rows }] },
    };
  }

  // Enough of KQL's grammar to tell a query from a typo: a known table first, a known operator after each pipe, balanced brackets.
  private checkSyntax(query: string): EmulatedResponse | undefined {
    const stripped = query.replace(/\/\/.*$/gm, '').replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
    let depth = 0;
    for (const [index, char] of [...stripped].entries()) {
      depth += char === '(' ? 1 : char === ')' ? -1 : 0;
      if (depth < 0) return syntaxError(stripped, index, ')');
    }
    if (depth !== 0) return syntaxError(stripped, stripped.length, '<end of query>');
    const segments = stripped.split('|');
    const table = segments[0]?.trim() ?? '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) return syntaxError(stripped, 0, table.split(/\s+/)[0] ?? '');
    if (!this.tables.has(table)) {
      return apiError(400, 'BadArgumentError', 'The request had some invalid properties', {
        code: 'SemanticError',
        message: 'A semantic error occurred.',
        innererror: {
          code: 'SEM0100',
          message: `'${table}' operator: Failed to resolve table or column expression named '${table}'`,
        },
      });
    }
    let offset = (segments[0] ?? '').length + 1;
    for (const segment of segments.slice(1)) {
      const operator = /^\s*([A-Za-z-]+)/.exec(segment)?.[1];
      if (!operator || !knownOperators.has(operator)) {
        return syntaxError(stripped, offset + Math.max(0, segment.search(/\S/)), operator ?? segment.trim());
      }
      offset += segment.length + 1;
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
