/**
 * A busy workspace for measuring: `rows` rows spread over the tables the gate reads, as a
 * cluster of 100 pods and their app would have written them over the last hour, among which
 * the 4 pods of one release. Deterministic, so two runs measure the same work.
 */
import type { MetricScope } from '../../../tasks/AcceptanceGate/health-catalog';
import { defaultErrorLogPattern } from '../../../tasks/AcceptanceGate/health-catalog';
import type { EmulatedLogAnalytics } from '../log-analytics';

/** The share of the rows each table gets. */
const shares: readonly [string, number][] = [
  ['KubePodInventory', 0.3],
  ['ContainerLogV2', 0.3],
  ['Perf', 0.2],
  ['AppRequests', 0.13],
  ['KubeEvents', 0.05],
  ['AppExceptions', 0.02],
];

const clusterName = 'aks-orders-production';
const resourceId = `/subscriptions/0b4f3c1e-2d5a-4e6f-8a7b-9c0d1e2f3a4b/resourceGroups/rg-orders/providers/Microsoft.ContainerService/managedClusters/${clusterName}`;

/** Writes the rows (visible at once) and answers the release's scope, for every catalog metric. */
export function fillWorkspace(logs: EmulatedLogAnalytics, workspaceId: string, rows: number): MetricScope {
  const now = Date.now();
  const pods = Array.from({ length: 100 }, (_, index) => ({
    name: index < 4 ? `orders-api-7d9f8c6b5-${index}` : `other-${index}`,
    uid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    namespace: index < 50 ? 'orders' : 'payments',
    hash: index < 4 ? '7d9f8c6b5' : `hash${index % 7}`,
  }));
  const delay = logs.ingestionDelayMs;
  logs.ingestionDelayMs = 0;
  try {
    for (const [table, share] of shares) {
      const count = Math.round(rows * share);
      const records = Array.from({ length: count }, (_, index) => {
        const pod = pods[index % pods.length]!;
        const at = now - 3_600_000 + Math.floor((index / count) * 3_600_000);
        return recordOf(table, pod, index, at);
      });
      logs.ingest(workspaceId, table, records);
    }
  } finally {
    logs.ingestionDelayMs = delay;
  }
  return {
    cluster: { cluster: clusterName, namespace: 'orders', podTemplateHashes: ['7d9f8c6b5'] },
    app: { roleName: 'orders-api', version: '1.4.0' },
    errorLogPattern: defaultErrorLogPattern,
  };
}

function recordOf(
  table: string,
  pod: { name: string; uid: string; namespace: string; hash: string },
  index: number,
  at: number,
): Record<string, unknown> {
  const cluster = { ClusterName: clusterName, ClusterId: resourceId };
  switch (table) {
    case 'KubePodInventory':
      return {
        ...cluster,
        TimeGenerated: at,
        Name: pod.name,
        Namespace: pod.namespace,
        PodUid: pod.uid,
        PodLabel: JSON.stringify([{ app: pod.name.split('-')[0], 'pod-template-hash': pod.hash }]),
        PodStatus: 'Running',
        ContainerName: `${pod.uid}/app`,
        ContainerStatus: index % 50 === 0 ? 'waiting' : 'running',
        ContainerRestartCount: Math.floor(index / 10_000),
        ContainerLastStatus: index % 97 === 0 ? '{"lastState":"terminated","reason":"OOMKilled"}' : '{}',
      };
    case 'ContainerLogV2':
      return {
        TimeGenerated: at,
        PodName: pod.name,
        PodNamespace: pod.namespace,
        ContainerName: 'app',
        LogSource: 'stdout',
        LogMessage: index % 40 === 0 ? `ERROR: request ${index} failed` : `info: served request ${index}`,
      };
    case 'Perf':
      return {
        TimeGenerated: at,
        ObjectName: 'K8SContainer',
        CounterName: ['cpuUsageNanoCores', 'memoryWorkingSetBytes', 'cpuLimitNanoCores', 'memoryLimitBytes'][
          Math.floor(index / 100) % 4
        ],
        CounterValue: [120e6, 200 * 2 ** 20, 500e6, 256 * 2 ** 20][Math.floor(index / 100) % 4],
        InstanceName: `${resourceId}/${pod.uid}/app`,
      };
    case 'AppRequests':
      return {
        TimeGenerated: at,
        AppRoleName: pod.name.startsWith('orders') ? 'orders-api' : 'payments-api',
        AppVersion: index % 3 === 0 ? '1.3.0' : '1.4.0',
        Name: 'GET /orders',
        DurationMs: 20 + (index % 200),
        ResultCode: index % 100 === 0 ? '500' : '200',
        Success: index % 100 !== 0,
      };
    case 'KubeEvents':
      return {
        ...cluster,
        TimeGenerated: at,
        Name: pod.name,
        Namespace: pod.namespace,
        ObjectKind: 'Pod',
        KubeEventType: 'Warning',
        Reason: 'BackOff',
        Message: `Back-off restarting failed container app in pod ${pod.name}`,
        FirstSeen: at - (index % 10) * 60_000,
        LastSeen: at,
        Count: 1 + (index % 5),
      };
    default:
      return {
        TimeGenerated: at,
        AppRoleName: pod.name.startsWith('orders') ? 'orders-api' : 'payments-api',
        AppVersion: '1.4.0',
        ExceptionType: 'System.TimeoutException',
      };
  }
}
