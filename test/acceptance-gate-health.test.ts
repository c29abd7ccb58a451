import { strict as assert } from 'node:assert';
import type { AzureRmConnection } from '../tasks/shared/azure-connection';
import { createCredential } from '../tasks/shared/azure-credential';
import { resolveCloud } from '../tasks/shared/cloud';
import { sdkClientOptions, type NetworkSettings } from '../tasks/shared/network';
import { TaskError } from '../tasks/shared/task-error';
import { defaultHealthQuery, parseHealthTarget, parseThresholds } from '../tasks/AcceptanceGate/health';
import { queryHealth } from '../tasks/AcceptanceGate/health-query';
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

  const run = (query = defaultHealthQuery, thresholds = 'failedRatePercent <= 1\np95DurationMs <= 1000') =>
    queryHealth(
      createCredential(connection, network, fastRetry),
      { endpoint, clientOptions: sdkClientOptions(network, endpoint, fastRetry) },
      { workspaceId },
      query,
      window,
      parseThresholds(thresholds),
    );
  const data = (failedRatePercent: number | null, p95DurationMs: number | null) =>
    logs.setResult(workspaceId, {
      columns: [
        { name: 'requests', type: 'long' },
        { name: 'failedRatePercent', type: 'real' },
        { name: 'p95DurationMs', type: 'real' },
      ],
      rows: [[1200, failedRatePercent, p95DurationMs]],
    });

  it('passes a healthy service, querying the window since the deploy started', async () => {
    data(0.4, 310);
    const report = await run();
    assert.deepEqual(
      report.figures.map((f) => [f.name, f.value, f.crossed]),
      [
        ['failedRatePercent', 0.4, false],
        ['p95DurationMs', 310, false],
      ],
    );
    const received = logs.queries.at(-1);
    assert.equal(received?.query, defaultHealthQuery);
    assert.equal(received?.timespan, '2025-05-01T10:00:00.000Z/2025-05-01T10:30:00.000Z');
  });

  it('flags a threshold the service crosses', async () => {
    data(3.5, 310);
    const report = await run();
    assert.deepEqual(
      report.figures.map((f) => [f.name, f.crossed]),
      [
        ['failedRatePercent', true],
        ['p95DurationMs', false],
      ],
    );
  });

  it('reports no traffic as no data, not as a crossing', async () => {
    data(null, null);
    const report = await run();
    assert.ok(report.figures.every((f) => f.value === undefined && !f.crossed));
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

  it('says which column is missing when a threshold names one the query does not return', async () => {
    data(0, 0);
    await assert.rejects(run(defaultHealthQuery, 'errorBudget <= 2'), (error: unknown) => {
      assert.ok(error instanceof TaskError);
      assert.equal(error.key, 'HealthColumnMissing');
      assert.deepEqual(error.args, ['errorBudget', 'requests, failedRatePercent, p95DurationMs']);
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
    const report = await queryHealth(
      createCredential(connection, network, fastRetry),
      { endpoint, clientOptions: sdkClientOptions(network, endpoint, fastRetry) },
      parseHealthTarget(resourceId),
      defaultHealthQuery,
      window,
      parseThresholds('failedRatePercent <= 1'),
    );
    assert.equal(report.target, resourceId);
    assert.deepEqual(
      report.figures.map((f) => [f.value, f.crossed]),
      [[0.1, false]],
    );
  });

  it('reports an unknown workspace', async () => {
    await assert.rejects(
      queryHealth(
        createCredential(connection, network, fastRetry),
        { endpoint, clientOptions: sdkClientOptions(network, endpoint, fastRetry) },
        { workspaceId: '00000000-0000-4000-8000-000000000000' },
        defaultHealthQuery,
        window,
        [],
      ),
      (error: unknown) => error instanceof TaskError && error.key === 'HealthTargetNotFound',
    );
  });
});
