import * as k8s from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import {
  defaultErrorLogPattern,
  healthMetrics,
  type MetricScope,
} from '../../tasks/AcceptanceGate/health-catalog';
import type { ContainerInsightsFeed } from './kubernetes/container-insights';
import { startClusterFixture, until, type ClusterFixture } from './kubernetes/testing';
import { EmulatedLogAnalytics } from './log-analytics';
import type { EmulatedRequest, EmulatedResponse } from './types';

const workspaceId = '7f3c0d52-0c8a-4e1b-9b6f-2b1d3c4e5f60';
const clusterName = 'aks-orders-staging';
const resourceId = `/subscriptions/0b4f3c1e-2d5a-4e6f-8a7b-9c0d1e2f3a4b/resourceGroups/rg-orders/providers/Microsoft.ContainerService/managedClusters/${clusterName}`;

interface Answer {
  readonly status: number;
  readonly columns: readonly { name: string; type: string }[];
  readonly rows: readonly (readonly unknown[])[];
  readonly error?: {
    code: string;
    innererror?: { code: string; innererror?: { code: string; message: string } };
  };
}

async function query(logs: EmulatedLogAnalytics, text: string, timespan?: string): Promise<Answer> {
  const request: EmulatedRequest = {
    method: 'POST',
    url: new URL(`https://loganalytics.azure.test/v1/workspaces/${workspaceId}/query`),
    headers: { authorization: 'Bearer good', 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ query: text, ...(timespan ? { timespan } : {}) })),
  };
  const response = (await logs.handler(request)) as EmulatedResponse;
  const body = response.body as {
    tables?: { columns: { name: string; type: string }[]; rows: unknown[][] }[];
    error?: Answer['error'];
  };
  return {
    status: response.status,
    columns: body.tables?.[0]?.columns ?? [],
    rows: body.tables?.[0]?.rows ?? [],
    ...(body.error ? { error: body.error } : {}),
  };
}

/** The one row a catalog query answers, as metric value and samples. */
async function metric(logs: EmulatedLogAnalytics, name: string, scope: MetricScope) {
  const found = healthMetrics.find((each) => each.name === name)!;
  const answer = await query(logs, found.query(scope));
  assert.equal(answer.status, 200, JSON.stringify(answer.error));
  assert.deepEqual(
    answer.columns.map((column) => column.name),
    [name, 'samples'],
  );
  assert.equal(answer.rows.length, 1);
  return { value: answer.rows[0]![0], samples: answer.rows[0]![1] as number };
}

describe('emulated Log Analytics: the gate catalog over what the emulated cluster did', function () {
  this.timeout(60_000);
  let fixture: ClusterFixture;
  let apps: k8s.AppsV1Api;
  let logs: EmulatedLogAnalytics;
  let feed: ContainerInsightsFeed;

  before(async () => {
    fixture = await startClusterFixture({ name: clusterName });
    const config = new k8s.KubeConfig();
    config.loadFromString(fixture.kubeconfig);
    apps = config.makeApiClient(k8s.AppsV1Api);
    await config.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'orders' } } });
    logs = new EmulatedLogAnalytics((token) => token === 'good');
    // Collected often, so every run of a crash-looping container is seen before the next replaces it.
    feed = logs.attachCluster(workspaceId, fixture.cluster, {
      clusterName,
      resourceId,
      collectionIntervalMs: 25,
    });
  });
  after(async () => {
    logs.stop();
    await fixture.stop();
  });

  const release = (image: string): k8s.V1Deployment => ({
    metadata: { name: 'orders-api', namespace: 'orders' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'orders-api' } },
      template: {
        metadata: { labels: { app: 'orders-api' } },
        spec: {
          containers: [
            {
              name: 'api',
              image,
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { cpu: '500m', memory: '256Mi' },
              },
            },
          ],
        },
      },
    },
  });
  const podsOf = (hash: string) =>
    fixture.cluster
      .listObjects('Pod', 'orders')
      .filter(
        (pod) => pod.metadata.labels?.['pod-template-hash'] === hash && !pod.metadata.deletionTimestamp,
      );
  const hashOf = (image: string) =>
    fixture.cluster
      .listObjects('ReplicaSet', 'orders')
      .find((each) => each.spec.template.spec.containers[0].image === image)?.metadata.labels[
      'pod-template-hash'
    ] as string | undefined;

  /** The scope of the release whose pods carry `hash`: each query finds them in KubePodInventory. */
  const releaseScope = (hash: string): MetricScope => ({
    cluster: { cluster: clusterName, namespace: 'orders', podTemplateHashes: [hash] },
    app: {},
    errorLogPattern: defaultErrorLogPattern,
  });

  it('finds a healthy release and measures it: no restarts, all ready, CPU and memory against the limits', async () => {
    const image = 'registry.test/orders-api:1.0.0';
    fixture.cluster.setImageBehaviour(image, {
      logs: ['info: listening on :8080', 'info: connected to orders-db'],
      usage: { cpu: '50m', memory: '64Mi' },
    });
    await apps.createNamespacedDeployment({ namespace: 'orders', body: release(image) });
    await until(() => {
      const hash = hashOf(image);
      return (
        !!hash && podsOf(hash).length === 2 && podsOf(hash).every((pod) => pod.status?.phase === 'Running')
      );
    });
    feed.collect();
    const scope = releaseScope(hashOf(image)!);
    assert.equal((await metric(logs, 'restarts', scope)).value, 0);
    assert.equal((await metric(logs, 'oomKilled', scope)).value, 0);
    assert.equal((await metric(logs, 'terminations', scope)).value, 0);
    const notReady = await metric(logs, 'podsNotReady', scope);
    assert.deepEqual(notReady, { value: 0, samples: 2 });
    // The counts of things written only when they happen count the release's two pods as samples.
    assert.deepEqual(await metric(logs, 'warningEvents', scope), { value: 0, samples: 2 });
    const errors = await metric(logs, 'errorLogLines', scope);
    assert.deepEqual(errors, { value: 0, samples: 2 });
    // 50m of a 500m limit, 64Mi of 256Mi.
    assert.equal((await metric(logs, 'cpuPercentOfLimit', scope)).value, 10);
    assert.equal((await metric(logs, 'memoryPercentOfLimit', scope)).value, 25);
  });

  it('follows a release whose containers are OOMKilled, crash-loop and log errors, and counts each as the cluster did', async () => {
    const image = 'registry.test/orders-api:1.1.0';
    fixture.cluster.setImageBehaviour(image, {
      logs: ['info: loading the catalogue cache', 'ERROR: cannot allocate the catalogue cache'],
      exitAfterMs: 300,
      exitCode: 137,
      exitReason: 'OOMKilled',
      usage: { cpu: '120m', memory: '200Mi' },
    });
    await apps.replaceNamespacedDeployment({ name: 'orders-api', namespace: 'orders', body: release(image) });
    await until(() => {
      const hash = hashOf(image);
      const pods = hash ? podsOf(hash) : [];
      return (
        pods.length === 2 &&
        pods.every((pod) =>
          (pod.status?.containerStatuses ?? []).some(
            (status: { restartCount: number }) => status.restartCount >= 2,
          ),
        )
      );
    });
    // It stops running out of memory: each container starts once more and stays up, so the counts settle.
    fixture.cluster.setImageBehaviour(image, {
      logs: ['info: loading the catalogue cache', 'ERROR: cannot allocate the catalogue cache'],
      usage: { cpu: '120m', memory: '200Mi' },
    });
    const hash = hashOf(image)!;
    await until(() =>
      podsOf(hash).every((pod) => pod.status?.containerStatuses?.[0]?.state?.running !== undefined),
    );
    feed.collect();
    const live = podsOf(hash);
    const restarts = live.reduce((sum, pod) => sum + Number(pod.status.containerStatuses[0].restartCount), 0);
    assert.equal(live.length, 2);
    const scope = releaseScope(hash);
    assert.equal((await metric(logs, 'restarts', scope)).value, restarts);
    assert.equal((await metric(logs, 'oomKilled', scope)).value, 2);
    assert.equal((await metric(logs, 'terminations', scope)).value, 2);
    // Every run logged its error line once: a run per restart, and the one running now.
    assert.equal((await metric(logs, 'errorLogLines', scope)).value, restarts + 2);
    // The kubelet's BackOff warnings, as the cluster counted them.
    const backOffs = fixture.cluster
      .listObjects('Event', 'orders')
      .filter(
        (event) =>
          event.type === 'Warning' && live.some((pod) => pod.metadata.uid === event.involvedObject.uid),
      )
      .reduce((sum, event) => sum + Number(event.count), 0);
    assert.ok(backOffs >= 2);
    assert.equal((await metric(logs, 'warningEvents', scope)).value, backOffs);
    assert.equal((await metric(logs, 'memoryPercentOfLimit', scope)).value, 78.1);
    // The previous release's pods are not this release's: they never restarted, nor logged an error.
    const previous = releaseScope(hashOf('registry.test/orders-api:1.0.0')!);
    assert.equal((await metric(logs, 'restarts', previous)).value, 0);
    assert.deepEqual(await metric(logs, 'errorLogLines', previous), { value: 0, samples: 2 });
    // A baseline reads every pod of the namespace, both releases'.
    const namespace: MetricScope = { ...scope, cluster: { cluster: clusterName, namespace: 'orders' } };
    assert.equal((await metric(logs, 'restarts', namespace)).value, restarts);
    assert.equal((await metric(logs, 'warningEvents', namespace)).samples, 4);
  });

  it('sees pods not ready while a release cannot start', async () => {
    const image = 'registry.test/orders-api:1.2.0';
    fixture.cluster.setImageBehaviour(image, { exitAfterMs: 50, logs: ['panic: ORDERS_DB is not set'] });
    await apps.replaceNamespacedDeployment({ name: 'orders-api', namespace: 'orders', body: release(image) });
    await until(() => {
      const hash = hashOf(image);
      return (
        !!hash &&
        podsOf(hash).length > 0 &&
        podsOf(hash).every(
          (pod) => pod.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
        )
      );
    });
    feed.collect();
    const hash = hashOf(image)!;
    const scope = releaseScope(hash);
    const pods = podsOf(hash).length;
    assert.equal((await metric(logs, 'podsNotReady', scope)).value, pods);
    assert.ok(((await metric(logs, 'errorLogLines', scope)).value as number) >= pods);
    assert.equal((await metric(logs, 'terminations', scope)).value, pods);
    assert.equal((await metric(logs, 'oomKilled', scope)).value, 0);
  });

  it('answers no data, not 0, for the counts of a release whose pods are not in KubePodInventory yet', async () => {
    const scope = releaseScope('0000000000');
    for (const name of ['warningEvents', 'errorLogLines', 'restarts', 'cpuPercentOfLimit'])
      assert.equal((await metric(logs, name, scope)).samples, 0, name);
  });

  it("scopes Application Insights metrics to the release's role and version", async () => {
    for (let index = 1; index <= 20; index += 1) {
      logs.recordRequest(workspaceId, {
        AppRoleName: 'orders-api',
        AppVersion: '1.1.0',
        Name: 'GET /orders',
        DurationMs: index * 10,
        ResultCode: index === 20 ? '500' : '200',
      });
    }
    // Another role, and the previous version of this one: neither counts.
    logs.recordRequest(workspaceId, {
      AppRoleName: 'payments',
      AppVersion: '1.1.0',
      DurationMs: 5000,
      ResultCode: '500',
    });
    logs.recordRequest(workspaceId, {
      AppRoleName: 'orders-api',
      AppVersion: '1.0.0',
      DurationMs: 5000,
      ResultCode: '503',
    });
    logs.recordException(workspaceId, {
      AppRoleName: 'orders-api',
      AppVersion: '1.1.0',
      ExceptionType: 'System.TimeoutException',
    });
    logs.recordException(workspaceId, {
      AppRoleName: 'payments',
      AppVersion: '1.1.0',
      ExceptionType: 'System.Exception',
    });
    const scope: MetricScope = {
      app: { roleName: 'orders-api', version: '1.1.0' },
      errorLogPattern: defaultErrorLogPattern,
    };
    assert.deepEqual(await metric(logs, 'requests', scope), { value: 20, samples: 20 });
    assert.deepEqual(await metric(logs, 'failedRatePercent', scope), { value: 5, samples: 20 });
    // Nearest rank: the 19th of 20 sorted durations.
    assert.deepEqual(await metric(logs, 'p95DurationMs', scope), { value: 190, samples: 20 });
    assert.deepEqual(await metric(logs, 'exceptions', scope), { value: 1, samples: 1 });
  });

  it('answers no samples, not a pass, for a release that has sent nothing', async () => {
    const scope: MetricScope = {
      app: { roleName: 'orders-api', version: '9.9.9' },
      errorLogPattern: defaultErrorLogPattern,
    };
    assert.equal((await metric(logs, 'requests', scope)).samples, 0);
    assert.equal((await metric(logs, 'p95DurationMs', scope)).value, null);
    assert.equal((await metric(logs, 'failedRatePercent', scope)).samples, 0);
    assert.deepEqual(await metric(logs, 'exceptions', scope), { value: 0, samples: 0 });
  });
});
