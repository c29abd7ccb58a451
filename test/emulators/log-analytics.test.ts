import { strict as assert } from 'node:assert';
import { EmulatedLogAnalytics } from './log-analytics';
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
    innererror?: { code: string; innererror?: { code: string; message: string } };
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
