import * as k8s from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import type { ContainerInsightsFeed } from './kubernetes/container-insights';
import { startClusterFixture, until, type ClusterFixture } from './kubernetes/testing';
import { EmulatedLogAnalytics } from './log-analytics';
import type { EmulatedResponse } from './types';

const workspaceId = '2b8e6f4a-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const clusterName = 'aks-web';
const resourceId = `/subscriptions/0b4f3c1e-2d5a-4e6f-8a7b-9c0d1e2f3a4b/resourceGroups/rg-web/providers/Microsoft.ContainerService/managedClusters/${clusterName}`;
const image = 'registry.test/web:2.0.0';

// Rows as records, column name → value, as the query API answered them.
async function rows(logs: EmulatedLogAnalytics, query: string): Promise<Record<string, unknown>[]> {
  const response = (await logs.handler({
    method: 'POST',
    url: new URL(`https://loganalytics.azure.test/v1/workspaces/${workspaceId}/query`),
    headers: { authorization: 'Bearer good' },
    body: Buffer.from(JSON.stringify({ query })),
  })) as EmulatedResponse;
  assert.equal(response.status, 200, JSON.stringify(response.body));
  const table = (response.body as { tables: { columns: { name: string }[]; rows: unknown[][] }[] })
    .tables[0]!;
  return table.rows.map((row) =>
    Object.fromEntries(table.columns.map((column, index) => [column.name, row[index]])),
  );
}

describe('emulated Container Insights: the rows it writes from the emulated cluster', function () {
  this.timeout(60_000);
  let fixture: ClusterFixture;
  let core: k8s.CoreV1Api;
  let logs: EmulatedLogAnalytics;
  let feed: ContainerInsightsFeed;
  let clock: number;

  before(async () => {
    fixture = await startClusterFixture({ name: clusterName });
    const config = new k8s.KubeConfig();
    config.loadFromString(fixture.kubeconfig);
    core = config.makeApiClient(k8s.CoreV1Api);
    clock = Date.now();
    logs = new EmulatedLogAnalytics((token) => token === 'good', undefined, {
      ingestionDelayMs: 120_000,
      now: () => clock,
    });
    fixture.cluster.setImageBehaviour(image, {
      logs: ['{"level":"info","msg":"listening"}', 'WARN slow start: cache cold'],
    });
    await config.makeApiClient(k8s.AppsV1Api).createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { terminationGracePeriodSeconds: 60, containers: [{ name: 'web', image }] },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    });
    await until(() =>
      fixture.cluster.listObjects('Pod', 'default').some((pod) => pod.status?.phase === 'Running'),
    );
    feed = logs.attachCluster(workspaceId, fixture.cluster, { clusterName, resourceId });
  });
  after(async () => {
    logs.stop();
    await fixture.stop();
  });

  it('writes nothing a query can see until the ingestion delay has passed', async () => {
    assert.deepEqual(await rows(logs, 'KubePodInventory | count'), [{ Count: 0 }]);
    clock += 120_000;
    assert.deepEqual(await rows(logs, 'KubePodInventory | count'), [{ Count: 1 }]);
  });

  it('writes KubePodInventory as Container Insights does: labels, controller, service, container status', async () => {
    const pod = fixture.cluster.listObjects('Pod', 'default')[0]!;
    const [row] = await rows(logs, 'KubePodInventory | take 1');
    assert.deepEqual(
      {
        Name: row!.Name,
        Namespace: row!.Namespace,
        PodUid: row!.PodUid,
        PodLabel: JSON.parse(row!.PodLabel as string),
        PodStatus: row!.PodStatus,
        ControllerKind: row!.ControllerKind,
        ControllerName: row!.ControllerName,
        ServiceName: row!.ServiceName,
        ContainerName: row!.ContainerName,
        ContainerStatus: row!.ContainerStatus,
        ContainerRestartCount: row!.ContainerRestartCount,
        ContainerLastStatus: row!.ContainerLastStatus,
        ClusterName: row!.ClusterName,
        ClusterId: row!.ClusterId,
        Computer: row!.Computer,
        Type: row!.Type,
      },
      {
        Name: pod.metadata.name,
        Namespace: 'default',
        PodUid: pod.metadata.uid,
        PodLabel: [pod.metadata.labels],
        PodStatus: 'Running',
        ControllerKind: 'ReplicaSet',
        ControllerName: pod.metadata.ownerReferences[0].name,
        ServiceName: 'web',
        ContainerName: `${pod.metadata.uid as string}/web`,
        ContainerStatus: 'running',
        ContainerRestartCount: 0,
        ContainerLastStatus: '{}',
        ClusterName: clusterName,
        ClusterId: resourceId,
        Computer: pod.spec.nodeName,
        Type: 'KubePodInventory',
      },
    );
  });

  it('writes each log line once, a JSON line as dynamic, with its level', async () => {
    feed.collect();
    clock += 120_000;
    const lines = await rows(
      logs,
      'ContainerLogV2 | project PodName, ContainerName, LogSource, LogLevel, level = tostring(LogMessage.level), text = tostring(LogMessage) | order by text asc',
    );
    const pod = fixture.cluster.listObjects('Pod', 'default')[0]!;
    assert.deepEqual(lines, [
      {
        PodName: pod.metadata.name,
        ContainerName: 'web',
        LogSource: 'stdout',
        LogLevel: 'WARNING',
        level: '',
        text: 'WARN slow start: cache cold',
      },
      {
        PodName: pod.metadata.name,
        ContainerName: 'web',
        LogSource: 'stdout',
        LogLevel: 'INFO',
        level: 'info',
        text: '{"level":"info","msg":"listening"}',
      },
    ]);
  });

  it('writes Warning events only, again each time their count grows, and the last state of a container that was OOMKilled', async () => {
    fixture.cluster.setImageBehaviour(image, { exitAfterMs: 30, exitCode: 137, exitReason: 'OOMKilled' });
    const pod = () => fixture.cluster.listObjects('Pod', 'default')[0]!;
    await until(() => Number(pod().status?.containerStatuses?.[0]?.restartCount) >= 1);
    const terminated = pod().status.containerStatuses[0].lastState.terminated;
    assert.equal(terminated.reason, 'OOMKilled');
    assert.equal(terminated.exitCode, 137);
    feed.collect();
    await until(() => Number(pod().status?.containerStatuses?.[0]?.restartCount) >= 2);
    clock += 60_000;
    feed.collect();
    clock += 120_000;
    const events = await rows(
      logs,
      'KubeEvents | project KubeEventType, Reason, Count, ObjectKind, SourceComponent | order by Count asc',
    );
    assert.ok(events.length >= 2, JSON.stringify(events));
    assert.ok(
      events.every((event) => event.KubeEventType === 'Warning' && event.Reason === 'BackOff'),
      JSON.stringify(events),
    );
    assert.ok(events.every((event) => event.ObjectKind === 'Pod' && event.SourceComponent === 'kubelet'));
    assert.deepEqual(
      events.map((event) => event.Count),
      events.map((_, index) => index + 1),
    );
    const [last] = await rows(
      logs,
      'KubePodInventory | summarize arg_max(TimeGenerated, ContainerLastStatus, ContainerRestartCount)',
    );
    const status = JSON.parse(last!.ContainerLastStatus as string) as Record<string, string>;
    assert.equal(status.lastState, 'terminated');
    assert.equal(status.reason, 'OOMKilled');
    assert.ok(status.startedAt && status.finishedAt);
    assert.ok(Number(last!.ContainerRestartCount) >= 2);
  });

  it('writes a pod being deleted as Terminating', async () => {
    fixture.cluster.setImageBehaviour(image, {});
    const name = fixture.cluster.listObjects('Pod', 'default')[0]!.metadata.name as string;
    await core.deleteNamespacedPod({ name, namespace: 'default' });
    feed.collect();
    clock += 120_000;
    const [row] = await rows(
      logs,
      `KubePodInventory | where Name == '${name}' | summarize arg_max(TimeGenerated, PodStatus)`,
    );
    assert.equal(row!.PodStatus, 'Terminating');
  });
});
