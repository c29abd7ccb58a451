import { strict as assert } from 'node:assert';
import type { AzureRmConnection } from '../tasks/shared/azure-connection';
import { createCredential } from '../tasks/shared/azure-credential';
import { resolveCloud } from '../tasks/shared/cloud';
import { sdkClientOptions, type NetworkSettings } from '../tasks/shared/network';
import { TaskError } from '../tasks/shared/task-error';
import { healthMetric } from '../tasks/AcceptanceGate/health-catalog';
import { parseHealthTarget, type HealthTarget } from '../tasks/AcceptanceGate/health';
import { createLogsQuery } from '../tasks/AcceptanceGate/health-query';
import { startEmulatedCloud, type EmulatedCloud } from './emulators/cloud';
import { EmulatedLogAnalytics } from './emulators/log-analytics';

const tenantId = '72f988bf-0000-4000-8000-0000000000aa';
const app = { clientId: '44444444-0000-4000-8000-000000000004', secret: 'gate-secret-value' };
const workspaceId = '7f3c0d52-0c8a-4e1b-9b6f-2b1d3c4e5f60';
const window = { startTime: new Date('2025-05-01T10:00:00Z'), endTime: new Date('2025-05-01T10:30:00Z') };
const fastRetry = { maxRetries: 0, initialDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 1000 };

describe('AcceptanceGate health query (real LogsQueryClient against emulated Log Analytics)', () => {
  let cloud: EmulatedCloud;
  let logs: EmulatedLogAnalytics;
  let network: NetworkSettings;
  let endpoint: string;
  let connection: AzureRmConnection;

  before(async () => {
    cloud = await startEmulatedCloud();
    logs = new EmulatedLogAnalytics((token, audience) => cloud.entra.verifyAccessToken(token, audience));
    cloud.azure.register('loganalytics.azure.test', logs.handler);
    cloud.entra.addApp(tenantId, { clientId: app.clientId, secrets: [app.secret] });
    network = { extraCaPem: cloud.azure.ca.caPem };
    endpoint = cloud.azure.url('loganalytics.azure.test', '');
    connection = {
      id: 'staging-connection',
      inputName: 'azureSubscription',
      cloud: resolveCloud('staging-connection', {
        environment: 'AzureStack',
        url: cloud.azure.url('management.azure.test', '/'),
        environmentAuthorityUrl: cloud.authorityHost,
        activeDirectoryServiceEndpointResourceId: 'https://management.azure.test/',
        azureKeyVaultDnsSuffix: cloud.azure.authority('vault.azure.test'),
      }),
      authentication: { scheme: 'ServicePrincipal', tenantId, clientId: app.clientId, secret: app.secret },
    };
  });
  after(() => cloud.azure.stop());

  const failedRateQuery =
    healthMetric('failedRatePercent')?.query({ app: {}, errorLogPattern: 'error' }) ?? '';
  const run = (query = failedRateQuery, target: HealthTarget = { workspaceId }) =>
    createLogsQuery(
      createCredential(connection, network, fastRetry),
      { endpoint, clientOptions: sdkClientOptions(network, endpoint, fastRetry) },
      target,
    )(query, window);
  const data = (failedRatePercent: number | null, samples: number) =>
    logs.setResult(workspaceId, {
      columns: [
        { name: 'failedRatePercent', type: 'real' },
        { name: 'samples', type: 'long' },
      ],
      rows: [[failedRatePercent, samples]],
    });

  it('sends the query with the window since the deploy started, and reads its table', async () => {
    data(0.4, 1200);
    const table = await run();
    assert.deepEqual(table, { columns: ['failedRatePercent', 'samples'], rows: [[0.4, 1200]] });
    const received = logs.queries.at(-1);
    assert.equal(received?.query, failedRateQuery);
    assert.equal(received?.timespan, '2025-05-01T10:00:00.000Z/2025-05-01T10:30:00.000Z');
  });

  it('retries a throttled query after its Retry-After, and a dropped connection', async () => {
    data(0.4, 1200);
    const retrying = { ...fastRetry, maxRetries: 3 };
    const query = createLogsQuery(
      createCredential(connection, network, retrying),
      { endpoint, clientOptions: sdkClientOptions(network, endpoint, retrying) },
      { workspaceId },
    );
    const before = logs.queries.length;
    const toLogs = (request: { url: URL }) => request.url.hostname === 'loganalytics.azure.test';
    cloud.azure.injectFault({ match: toLogs, fault: { kind: 'throttle', retryAfterSeconds: 0 }, times: 1 });
    cloud.azure.injectFault({ match: toLogs, fault: { kind: 'drop' }, times: 1 });
    const table = await query(failedRateQuery, window);
    assert.deepEqual(table.rows, [[0.4, 1200]]);
    assert.equal(logs.queries.length, before + 1, 'answered once the faults passed');
  });

  it('turns a bad KQL into one clear line with the parser message', async () => {
    data(0, 0);
    await assert.rejects(run('AppRequests | summarise count()'), (error: unknown) => {
      assert.ok(error instanceof TaskError);
      assert.equal(error.key, 'HealthQueryInvalid');
      assert.match(String(error.args[1]), /Query could not be parsed at 'summarise'/);
      return true;
    });
  });

  it('queries an Application Insights resource by its resource id', async () => {
    const resourceId =
      '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Insights/components/orders-staging';
    logs.setResult(resourceId, {
      columns: [{ name: 'failedRatePercent', type: 'real' }],
      rows: [[0.1]],
    });
    const table = await run(failedRateQuery, parseHealthTarget(resourceId));
    assert.deepEqual(table.rows, [[0.1]]);
    assert.equal(logs.queries.at(-1)?.target, resourceId);
  });

  it('reports an unknown workspace', async () => {
    await assert.rejects(
      run(failedRateQuery, { workspaceId: '00000000-0000-4000-8000-000000000000' }),
      (error: unknown) => error instanceof TaskError && error.key === 'HealthTargetNotFound',
    );
  });
});
