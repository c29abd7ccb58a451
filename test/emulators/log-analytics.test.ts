import { strict as assert } from 'node:assert';
import {
  defaultErrorLogPattern,
  healthMetrics,
  type MetricScope,
} from '../../tasks/AcceptanceGate/health-catalog';
import { EmulatedLogAnalytics } from './log-analytics';
import { fillWorkspace } from './log-analytics/synthetic';
import type { EmulatedRequest, EmulatedResponse } from './types';

const workspaceId = '7f3c0d52-0c8a-4e1b-9b6f-2b1d3c4e5f60';

function request(path: string, body: object | string, token = 'good'): EmulatedRequest {
  return {
    method: 'POST',
    url: new URL(`https://loganalytics.azure.test:4443${path}`),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

type ErrorBody = {
  error: {
    code: string;
    message: string;
    innererror?: { code: string; message?: string; innererror?: { code: string; message: string } };
  };
};

describe('emulated Log Analytics (transport-free)', () => {
  let logs: EmulatedLogAnalytics;
  beforeEach(() => {
    logs = new EmulatedLogAnalytics(
      (token, audience) => token === 'good' && audience === 'https://loganalytics.azure.test',
    );
    logs.setResult(workspaceId, {
      columns: [
        { name: 'requests', type: 'long' },
        { name: 'failedRatePercent', type: 'real' },
      ],
      rows: [[1200, 0.25]],
    });
  });
  const answer = async (req: EmulatedRequest) => (await logs.handler(req)) as EmulatedResponse;

  it('answers a workspace query with the tables the SDK reads, and records it', async () => {
    const response = await answer(
      request(`/v1/workspaces/${workspaceId}/query`, {
        query: 'AppRequests | summarize count()',
        timespan: '2025-05-01T10:00:00.000Z/2025-05-01T11:00:00.000Z',
      }),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, {
      tables: [
        {
          name: 'PrimaryResult',
          columns: [
            { name: 'requests', type: 'long' },
            { name: 'failedRatePercent', type: 'real' },
          ],
          rows: [[1200, 0.25]],
        },
      ],
    });
    assert.deepEqual(logs.queries, [
      {
        target: workspaceId,
        query: 'AppRequests | summarize count()',
        timespan: '2025-05-01T10:00:00.000Z/2025-05-01T11:00:00.000Z',
      },
    ]);
  });

  it('answers a resource-centric query', async () => {
    const resourceId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/components/orders';
    logs.setResult(resourceId, { columns: [{ name: 'n', type: 'long' }], rows: [[1]] });
    const response = await answer(request(`/v1${resourceId}/query`, { query: 'requests | count' }));
    assert.equal(response.status, 200);
  });

  const errors: { name: string; req: () => EmulatedRequest; status: number; code: string; inner?: RegExp }[] =
    [
      {
        name: 'a query that does not parse',
        req: () =>
          request(`/v1/workspaces/${workspaceId}/query`, { query: 'AppRequests | summarise count()' }),
        status: 400,
        code: 'BadArgumentError',
        inner: /Query could not be parsed at 'summarise' on line \[1,14\]/,
      },
      {
        name: 'unbalanced brackets',
        req: () => request(`/v1/workspaces/${workspaceId}/query`, { query: 'AppRequests | where (Success' }),
        status: 400,
        code: 'BadArgumentError',
        inner: /could not be parsed/,
      },
      {
        name: 'an unknown table',
        req: () => request(`/v1/workspaces/${workspaceId}/query`, { query: 'Requestz | take 1' }),
        status: 400,
        code: 'BadArgumentError',
        inner: /Failed to resolve table or column expression named 'Requestz'/,
      },
      {
        name: 'a missing token',
        req: () => request(`/v1/workspaces/${workspaceId}/query`, { query: 'AppRequests' }, 'bad'),
        status: 401,
        code: 'InvalidTokenError',
      },
      {
        name: 'an unknown workspace',
        req: () =>
          request('/v1/workspaces/00000000-0000-0000-0000-000000000000/query', { query: 'AppRequests' }),
        status: 404,
        code: 'WorkspaceNotFoundError',
      },
      {
        name: 'an empty query',
        req: () => request(`/v1/workspaces/${workspaceId}/query`, { query: ' ' }),
        status: 400,
        code: 'BadArgumentError',
      },
    ];
  for (const e of errors) {
    it(`rejects ${e.name} with the service's error shape`, async () => {
      const response = await answer(e.req());
      assert.equal(response.status, e.status);
      const body = response.body as ErrorBody;
      assert.equal(body.error.code, e.code);
      if (e.inner) assert.match(body.error.innererror?.innererror?.message ?? '', e.inner);
    });
  }

  it('passes on paths that are not its own', async () => {
    assert.equal(await logs.handler(request('/v2/other', {})), undefined);
  });
});

describe('emulated Log Analytics: workspaces that run their queries', () => {
  let clock: number;
  let logs: EmulatedLogAnalytics;
  beforeEach(() => {
    clock = Date.parse('2025-05-01T10:00:00Z');
    logs = new EmulatedLogAnalytics((token) => token === 'good', undefined, { now: () => clock });
    logs.addWorkspace(workspaceId);
  });
  const ask = async (query: string, timespan?: string) =>
    (await logs.handler(
      request(`/v1/workspaces/${workspaceId}/query`, { query, ...(timespan ? { timespan } : {}) }),
    )) as EmulatedResponse;
  const rowsOf = (response: EmulatedResponse) =>
    (response.body as { tables: { rows: unknown[][] }[] }).tables[0]!.rows;

  it('keeps rows out of queries until their ingestion delay has passed', async () => {
    logs.ingestionDelayMs = 3 * 60_000;
    logs.recordRequest(workspaceId, { AppRoleName: 'orders-api', DurationMs: 12, ResultCode: '200' });
    assert.deepEqual(rowsOf(await ask('AppRequests | count')), [[0]]);
    clock += 3 * 60_000 - 1;
    assert.deepEqual(rowsOf(await ask('AppRequests | count')), [[0]]);
    clock += 1;
    assert.deepEqual(rowsOf(await ask('AppRequests | count')), [[1]]);
  });

  it("filters on TimeGenerated by the request's timespan, in each ISO 8601 form", async () => {
    for (const minutes of [0, 10, 20, 30]) {
      logs.recordRequest(workspaceId, {
        TimeGenerated: new Date(clock + minutes * 60_000),
        DurationMs: minutes,
        ResultCode: '200',
      });
    }
    clock += 30 * 60_000;
    const durations = async (timespan: string) =>
      rowsOf(await ask('AppRequests | order by DurationMs asc | project DurationMs', timespan)).flat();
    assert.deepEqual(await durations('2025-05-01T10:05:00Z/2025-05-01T10:20:00Z'), [10, 20]);
    assert.deepEqual(await durations('2025-05-01T10:05:00Z/PT10M'), [10]);
    assert.deepEqual(await durations('PT10M/2025-05-01T10:30:00Z'), [20, 30]);
    assert.deepEqual(await durations('PT15M'), [20, 30]);
    assert.deepEqual(await durations('P1D'), [0, 10, 20, 30]);
  });

  it('answers with the columns, types and values the query API sends', async () => {
    logs.ingest(workspaceId, 'ContainerLogV2', [
      { PodName: 'orders-1', LogMessage: { level: 'error', msg: 'boom' }, TimeGenerated: clock },
    ]);
    const response = await ask(
      'ContainerLogV2 | extend level = tostring(LogMessage.level), age = now() - TimeGenerated | project TimeGenerated, PodName, LogMessage, level, age, ratio = 0.0 / 0',
    );
    assert.equal(response.status, 200);
    const table = (response.body as { tables: { columns: unknown; rows: unknown[][] }[] }).tables[0]!;
    assert.deepEqual(table.columns, [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'PodName', type: 'string' },
      { name: 'LogMessage', type: 'dynamic' },
      { name: 'level', type: 'string' },
      { name: 'age', type: 'timespan' },
      { name: 'ratio', type: 'real' },
    ]);
    assert.deepEqual(table.rows, [
      ['2025-05-01T10:00:00.000Z', 'orders-1', '{"level":"error","msg":"boom"}', 'error', '00:00:00', 'NaN'],
    ]);
  });

  const errors: { name: string; query: string; code: string; inner: string; message: RegExp }[] = [
    {
      name: 'a column the table lacks',
      query: "KubePodInventory | where PodName == 'x'",
      code: 'SemanticError',
      inner: 'SEM0100',
      message: /^'where' operator: Failed to resolve scalar expression named 'PodName'$/,
    },
    {
      name: 'an unknown table',
      query: 'KubePods | take 1',
      code: 'SemanticError',
      inner: 'SEM0100',
      message: /Failed to resolve table or column expression named 'KubePods'/,
    },
    {
      name: 'an unknown function',
      query: 'AppRequests | extend x = percentil(DurationMs, 95)',
      code: 'SemanticError',
      inner: 'SEM0219',
      message: /Unknown function: 'percentil'/,
    },
    {
      name: 'a query that does not parse',
      query: 'AppRequests\n| where DurationMs >',
      code: 'SyntaxError',
      inner: 'SYN0002',
      message: /^Query could not be parsed at '<end of query>' on line \[2,20\]$/,
    },
    {
      name: 'an operator the emulator does not evaluate',
      query: 'AppRequests | join (AppExceptions) on OperationId',
      code: 'SemanticError',
      inner: 'EMULATOR0001',
      message: /does not evaluate 'join'/,
    },
  ];
  for (const each of errors) {
    it(`rejects ${each.name} with the service's error shape`, async () => {
      const response = await ask(each.query);
      assert.equal(response.status, 400);
      const body = response.body as ErrorBody;
      assert.equal(body.error.code, 'BadArgumentError');
      assert.equal(body.error.innererror?.code, each.code);
      assert.equal(body.error.innererror?.innererror?.code, each.inner);
      assert.match(body.error.innererror?.innererror?.message ?? '', each.message);
    });
  }

  it('rejects a timespan that is not an ISO 8601 interval', async () => {
    const response = await ask('AppRequests | count', 'last hour');
    assert.equal(response.status, 400);
  });

  it('answers every catalog query over the real tables, naming only columns their schemas have', async () => {
    const scope: MetricScope = {
      cluster: {
        cluster: 'aks-orders-staging',
        namespace: 'orders',
        podTemplateHashes: ['7d9f8c6b5', '5c4b3a291'],
      },
      app: { roleName: 'orders-api', version: '1.4.0' },
      errorLogPattern: defaultErrorLogPattern,
    };
    for (const metric of healthMetrics) {
      const response = await ask(metric.query(scope));
      assert.equal(response.status, 200, `${metric.name}: ${JSON.stringify(response.body)}`);
      const table = (response.body as { tables: { columns: { name: string }[]; rows: unknown[][] }[] })
        .tables[0]!;
      assert.deepEqual(
        table.columns.map((column) => column.name),
        [metric.name, 'samples'],
        metric.name,
      );
      // No data yet: one row whose samples say so.
      assert.equal(table.rows.length, 1, metric.name);
      assert.equal(table.rows[0]![1], 0, metric.name);
    }
  });

  it('waits latencyMs before it answers, and answers concurrent queries together', async () => {
    logs.latencyMs = 100;
    clock = Date.now();
    const started = Date.now();
    const responses = await Promise.all(Array.from({ length: 10 }, () => ask('AppRequests | count')));
    const elapsed = Date.now() - started;
    assert.ok(responses.every((response) => response.status === 200));
    assert.ok(elapsed >= 95 && elapsed < 1000, `took ${elapsed} ms`);
  });
});

describe('emulated Log Analytics: at the scale of a busy workspace', function () {
  this.timeout(30_000);

  it('answers 20 concurrent catalog queries over 100 000 rows, with 200 ms of latency, in well under a second each', async () => {
    const logs = new EmulatedLogAnalytics((token) => token === 'good');
    const scope = fillWorkspace(logs, workspaceId, 100_000);
    const ask = async (query: string, timespan?: string) => {
      const response = (await logs.handler(
        request(`/v1/workspaces/${workspaceId}/query`, { query, ...(timespan ? { timespan } : {}) }),
      )) as EmulatedResponse;
      assert.equal(response.status, 200, JSON.stringify(response.body));
    };
    const queries = Array.from({ length: 20 }, (_, index) =>
      healthMetrics[index % healthMetrics.length]!.query(scope),
    );
    // Once to warm up, as a long-running emulator is.
    await Promise.all(queries.map((query) => ask(query)));
    logs.latencyMs = 200;
    let started = performance.now();
    await ask(queries[0]!, 'PT30M');
    const one = performance.now() - started;
    started = performance.now();
    await Promise.all(queries.map((query) => ask(query, 'PT30M')));
    const all = performance.now() - started;
    // The queries wait out their latency together; evaluating them all adds little to one.
    assert.ok(all < 1000, `20 queries took ${all.toFixed(0)} ms (one took ${one.toFixed(0)} ms)`);
  });
});
