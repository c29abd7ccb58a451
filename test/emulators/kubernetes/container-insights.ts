/**
 * The Container Insights agent of an emulated cluster: at every collection it reads what
 * the cluster really holds (pods and their container statuses, events, the kubelet's logs)
 * and writes the rows Container Insights writes to a Log Analytics workspace, shaped as the
 * agent shapes them (Microsoft's Docker-Provider, source/plugins/ruby/in_kube_podinventory.rb,
 * in_kube_events.rb, and the ContainerLogV2 schema):
 * - KubePodInventory: one row per pod and container per collection; PodLabel is the pod's
 *   labels as a one-element JSON array, ContainerName `<pod uid>/<container>`, ContainerStatus
 *   the state's key (running, waiting, terminated), ContainerLastStatus a JSON object with the
 *   last state, its reason (OOMKilled, Error, …) and times, or `{}`; PodStatus is Terminating
 *   for a pod being deleted.
 * - KubeEvents: Warning events only unless `normalEvents` (as the agent does by default); an
 *   event is written again each time its count grows, with the cumulative Count.
 * - ContainerLogV2: each line the kubelet has for a container, once, at the time it was written.
 * - Perf (ObjectName K8SContainer): cpuUsageNanoCores, memoryWorkingSetBytes, cpuLimitNanoCores,
 *   memoryLimitBytes of each running container, InstanceName `<cluster resource id>/<pod uid>/<container>`.
 *   No process runs here, so usage is the image behaviour's `usage`, else the container's
 *   requests, else 1m CPU and 16Mi; a container without a limit is limited by its node's
 *   allocatable, as Container Insights reports it.
 */
import type { EmulatedCluster } from './cluster';
import { bytes, cpuMillis } from './controllers/scheduler';
import type { KubeObject } from './object';

/** Receives the rows of one table, as column → value records. */
export type RowSink = (table: string, records: readonly Record<string, unknown>[]) => void;

/** How a cluster is watched. */
export interface ContainerInsightsOptions {
  /** ClusterName as Container Insights writes it: the AKS cluster's name. */
  readonly clusterName: string;
  /** The cluster's ARM resource id: ClusterId, _ResourceId, and the head of Perf's InstanceName. */
  readonly resourceId: string;
  /** How often the agent collects (ms); Container Insights collects every 60 s. */
  readonly collectionIntervalMs?: number;
  /** Also write Normal events (Container Insights writes only Warning events unless configured). */
  readonly normalEvents?: boolean;
  /** The time a collection is stamped with (ms); the wall clock unless given. */
  readonly now?: () => number;
}

/** A running feed from one cluster. */
export interface ContainerInsightsFeed {
  /** Collects once, now (tests call it instead of waiting for the interval). */
  collect(): void;
  /** Stops collecting. */
  stop(): void;
}

const defaultUsage = { cpu: '1m', memory: '16Mi' };

/** Starts collecting from `cluster` into `sink`, once at once and then every interval. */
export function startContainerInsights(
  cluster: EmulatedCluster,
  sink: RowSink,
  options: ContainerInsightsOptions,
): ContainerInsightsFeed {
  const now = options.now ?? (() => Date.now());
  const writtenEvents = new Set<string>();
  const writtenLines = new Set<string>();
  const base = {
    ClusterId: options.resourceId,
    ClusterName: options.clusterName,
    _ResourceId: options.resourceId,
  };

  const collect = (): void => {
    const at = now();
    const pods = cluster.listObjects('Pod');
    const services = cluster.listObjects('Service');
    const nodes = new Map(cluster.listObjects('Node').map((node) => [node.metadata.name as string, node]));
    const inventory: Record<string, unknown>[] = [];
    const perf: Record<string, unknown>[] = [];
    const logs: Record<string, unknown>[] = [];
    for (const pod of pods) {
      inventory.push(...podInventory(pod, services, at).map((row) => ({ ...base, ...row })));
      perf.push(
        ...containerPerf(cluster, pod, nodes.get(pod.spec?.nodeName as string), options.resourceId, at),
      );
      logs.push(
        ...containerLogs(cluster, pod, writtenLines, at).map((row) => ({
          ...row,
          _ResourceId: options.resourceId,
        })),
      );
    }
    const events = cluster
      .listObjects('Event')
      .filter((event) => options.normalEvents || event.type === 'Warning')
      .filter((event) => {
        const id = `${event.metadata.uid as string}/${String(event.count ?? 1)}`;
        if (writtenEvents.has(id)) return false;
        writtenEvents.add(id);
        return true;
      })
      .map((event) => ({ ...base, ...eventRow(event, pods, at) }));
    if (inventory.length > 0) sink('KubePodInventory', inventory);
    if (events.length > 0) sink('KubeEvents', events);
    if (logs.length > 0) sink('ContainerLogV2', logs);
    if (perf.length > 0) sink('Perf', perf);
  };

  collect();
  const timer = setInterval(collect, options.collectionIntervalMs ?? 60_000);
  timer.unref();
  return { collect, stop: () => clearInterval(timer) };
}

function podInventory(
  pod: KubeObject,
  services: readonly KubeObject[],
  at: number,
): Record<string, unknown>[] {
  const labels = (pod.metadata.labels ?? {}) as Record<string, string>;
  const owner = ((pod.metadata.ownerReferences ?? []) as KubeObject[])[0];
  const statuses = (pod.status?.containerStatuses ?? []) as KubeObject[];
  const serviceName = services
    .filter((service) => service.metadata.namespace === pod.metadata.namespace)
    .find((service) => {
      const selector = (service.spec?.selector ?? {}) as Record<string, string>;
      const keys = Object.keys(selector);
      return keys.length > 0 && keys.every((key) => labels[key] === selector[key]);
    })?.metadata.name as string | undefined;
  const podRestarts = statuses.reduce((sum, status) => sum + Number(status.restartCount ?? 0), 0);
  return ((pod.spec?.containers ?? []) as KubeObject[]).map((container) => {
    const status = statuses.find((each) => each.name === container.name);
    const stateName = Object.keys((status?.state ?? {}) as object)[0] ?? '';
    const state = (status?.state?.[stateName] ?? {}) as KubeObject;
    return {
      TimeGenerated: at,
      Computer: pod.spec?.nodeName ?? '',
      Name: pod.metadata.name,
      Namespace: pod.metadata.namespace,
      PodUid: pod.metadata.uid,
      PodLabel: JSON.stringify([labels]),
      PodStatus: pod.metadata.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'Pending'),
      PodIp: pod.status?.podIP ?? '',
      PodCreationTimeStamp: pod.metadata.creationTimestamp,
      PodStartTime: pod.status?.startTime ?? null,
      PodRestartCount: podRestarts,
      ControllerKind: owner?.kind ?? '',
      ControllerName: owner?.name ?? '',
      ServiceName: serviceName ?? '',
      ContainerName: `${pod.metadata.uid as string}/${container.name as string}`,
      ContainerID: String(status?.containerID ?? '').replace(/^[a-z]+:\/\//, ''),
      ContainerStatus: stateName,
      ContainerStatusReason: state.reason ?? '',
      ContainerRestartCount: Number(status?.restartCount ?? 0),
      ContainerLastStatus: JSON.stringify(lastStatus(status)),
      ContainerCreationTimeStamp: state.startedAt ?? null,
      ContainerStartTime: stateName === 'running' ? state.startedAt : null,
      InstanceName: '',
    };
  });
}

// The agent writes the last state only when it has a reason and both times; `{}` otherwise.
function lastStatus(status: KubeObject | undefined): object {
  const name = Object.keys((status?.lastState ?? {}) as object)[0];
  const last = name ? (status!.lastState[name] as KubeObject) : undefined;
  if (!last?.reason || !last.startedAt || !last.finishedAt) return {};
  return { lastState: name, reason: last.reason, startedAt: last.startedAt, finishedAt: last.finishedAt };
}

function containerPerf(
  cluster: EmulatedCluster,
  pod: KubeObject,
  node: KubeObject | undefined,
  resourceId: string,
  at: number,
): Record<string, unknown>[] {
  const statuses = (pod.status?.containerStatuses ?? []) as KubeObject[];
  return ((pod.spec?.containers ?? []) as KubeObject[]).flatMap((container) => {
    const status = statuses.find((each) => each.name === container.name);
    if (!status?.state?.running) return [];
    const behaviour = cluster.behaviours.of(String(container.image));
    const requests = (container.resources?.requests ?? {}) as Record<string, string>;
    const limits = (container.resources?.limits ?? {}) as Record<string, string>;
    const allocatable = (node?.status?.allocatable ?? {}) as Record<string, string>;
    const counters: [string, number][] = [
      ['cpuUsageNanoCores', cpuMillis(behaviour.usage?.cpu ?? requests.cpu ?? defaultUsage.cpu) * 1e6],
      ['memoryWorkingSetBytes', bytes(behaviour.usage?.memory ?? requests.memory ?? defaultUsage.memory)],
      ['cpuLimitNanoCores', cpuMillis(limits.cpu ?? allocatable.cpu ?? '0') * 1e6],
      ['memoryLimitBytes', bytes(limits.memory ?? allocatable.memory ?? '0')],
    ];
    return counters.map(([counter, value]) => ({
      TimeGenerated: at,
      Computer: pod.spec?.nodeName ?? '',
      ObjectName: 'K8SContainer',
      CounterName: counter,
      CounterValue: value,
      InstanceName: `${resourceId}/${pod.metadata.uid as string}/${container.name as string}`,
      _ResourceId: resourceId,
    }));
  });
}

function containerLogs(
  cluster: EmulatedCluster,
  pod: KubeObject,
  written: Set<string>,
  at: number,
): Record<string, unknown>[] {
  const statuses = (pod.status?.containerStatuses ?? []) as KubeObject[];
  const rows: Record<string, unknown>[] = [];
  for (const container of (pod.spec?.containers ?? []) as KubeObject[]) {
    const status = statuses.find((each) => each.name === container.name);
    if (!status) continue;
    const runs = [
      ...(status.lastState?.terminated ? [true] : []),
      ...(status.state?.running || status.state?.terminated ? [false] : []),
    ];
    for (const previous of runs) {
      let text: string;
      try {
        text = cluster.readLogs(pod, { container: container.name as string, previous, timestamps: true });
      } catch {
        continue; // not started yet: nothing written
      }
      for (const line of text.split('\n')) {
        const match = /^(\S+) (.*)$/.exec(line);
        if (!match) continue;
        const time = Date.parse(match[1]!);
        const key = `${pod.metadata.uid as string}/${container.name as string}/${match[1]!}`;
        if (time > at || written.has(key)) continue;
        written.add(key);
        const message = match[2]!;
        rows.push({
          TimeGenerated: time,
          Computer: pod.spec?.nodeName ?? '',
          ContainerId: String(status.containerID ?? '').replace(/^[a-z]+:\/\//, ''),
          ContainerName: container.name,
          PodName: pod.metadata.name,
          PodNamespace: pod.metadata.namespace,
          LogSource: 'stdout',
          LogMessage: jsonOrText(message),
          LogLevel: logLevel(message),
          KubernetesMetadata: {
            podUid: pod.metadata.uid,
            podLabels: pod.metadata.labels ?? {},
            image: container.image,
            imageID: status.imageID ?? '',
          },
        });
      }
    }
  }
  return rows;
}

// ContainerLogV2 keeps a JSON log line as dynamic, so its fields can be queried without parse_json.
function jsonOrText(message: string): unknown {
  if (!/^\s*\{/.test(message)) return message;
  try {
    return JSON.parse(message) as unknown;
  } catch {
    return message;
  }
}

// Container Insights classifies each line by the first level word it finds.
function logLevel(message: string): string {
  const word = /\b(critical|fatal|panic|error|warn|warning|info|debug|trace)\b/i
    .exec(message)?.[1]
    ?.toLowerCase();
  if (!word) return 'UNKNOWN';
  if (word === 'fatal' || word === 'panic' || word === 'critical') return 'CRITICAL';
  if (word === 'warn') return 'WARNING';
  return word.toUpperCase();
}

function eventRow(event: KubeObject, pods: readonly KubeObject[], at: number): Record<string, unknown> {
  const involved = (event.involvedObject ?? {}) as KubeObject;
  const pod = involved.kind === 'Pod' ? pods.find((each) => each.metadata.uid === involved.uid) : undefined;
  return {
    TimeGenerated: at,
    ObjectKind: involved.kind ?? '',
    Namespace: involved.namespace ?? '',
    Name: involved.name ?? '',
    Reason: event.reason ?? '',
    Message: event.message ?? '',
    KubeEventType: event.type ?? '',
    Count: Number(event.count ?? 1),
    FirstSeen: event.firstTimestamp ?? null,
    LastSeen: event.lastTimestamp ?? null,
    SourceComponent: event.source?.component ?? '',
    Computer: pod?.spec?.nodeName ?? event.source?.host ?? '',
  };
}
