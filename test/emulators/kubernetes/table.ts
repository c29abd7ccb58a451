import type { KubeObject } from './object';
import type { ResourceType } from './resources';

/**
 * The `Table` form kubectl asks for (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`)
 * when it prints objects: the default columns of the kinds people look at, Name and
 * Age for the rest, and each row's object as PartialObjectMetadata.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables
 */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}

interface Column {
  readonly name: string;
  readonly type: string;
  readonly format?: string;
  /** 0 for the default columns; 1 for those `-o wide` adds. */
  readonly priority?: number;
  readonly cell: (object: KubeObject, now: number) => string | number;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (object) => object.metadata.name };
const age: Column = {
  name: 'Age',
  type: 'string',
  cell: (object, now) => humanAge(object.metadata.creationTimestamp, now),
};

// The wide columns of the workloads: their pod template's containers and images, and selector.
const containers = (template: (o: KubeObject) => KubeObject | undefined): Column[] => [
  {
    name: 'Containers',
    type: 'string',
    priority: 1,
    cell: (o) => ((template(o)?.spec?.containers ?? []) as KubeObject[]).map((c) => c.name).join(','),
  },
  {
    name: 'Images',
    type: 'string',
    priority: 1,
    cell: (o) => ((template(o)?.spec?.containers ?? []) as KubeObject[]).map((c) => c.image).join(','),
  },
];
const selector: Column = {
  name: 'Selector',
  type: 'string',
  priority: 1,
  cell: (o) => labelSelectorText(o.spec?.selector),
};
const podTemplate = (o: KubeObject): KubeObject | undefined => o.spec?.template;

const columnsByKind: Record<string, Column[]> = {
  Deployment: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
    },
    { name: 'Up-to-date', type: 'integer', cell: (o) => o.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => o.status?.availableReplicas ?? 0 },
    age,
    ...containers(podTemplate),
    selector,
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.readyReplicas ?? 0 },
    age,
    ...containers(podTemplate),
    selector,
  ],
  StatefulSet: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
    },
    age,
    ...containers(podTemplate),
  ],
  DaemonSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', cell: (o) => o.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => o.status?.numberAvailable ?? 0 },
    {
      name: 'Node Selector',
      type: 'string',
      cell: (o) => mapText(o.spec?.template?.spec?.nodeSelector),
    },
    age,
    ...containers(podTemplate),
    selector,
  ],
  Pod: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => {
        const statuses = (o.status?.containerStatuses ?? []) as KubeObject[];
        return `${statuses.filter((each) => each.ready).length}/${(o.spec?.containers ?? []).length}`;
      },
    },
    { name: 'Status', type: 'string', cell: podStatus },
    { name: 'Restarts', type: 'string', cell: podRestarts },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => o.status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => o.spec?.nodeName ?? '<none>' },
    {
      name: 'Nominated Node',
      type: 'string',
      priority: 1,
      cell: (o) => o.status?.nominatedNodeName ?? '<none>',
    },
    {
      name: 'Readiness Gates',
      type: 'string',
      priority: 1,
      cell: (o) => {
        const gates = (o.spec?.readinessGates ?? []) as KubeObject[];
        if (gates.length === 0) return '<none>';
        const conditions = (o.status?.conditions ?? []) as KubeObject[];
        const ready = gates.filter((gate) =>
          conditions.some((each) => each.type === gate.conditionType && each.status === 'True'),
        ).length;
        return `${ready}/${gates.length}`;
      },
    },
  ],
  // One printer for both Event APIs: events.k8s.io names the core fields differently.
  Event: [
    {
      name: 'Last Seen',
      type: 'string',
      cell: (o, now) =>
        humanAge(
          o.lastTimestamp ?? o.deprecatedLastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp,
          now,
        ),
    },
    { name: 'Type', type: 'string', cell: (o) => o.type ?? '' },
    { name: 'Reason', type: 'string', cell: (o) => o.reason ?? '' },
    {
      name: 'Object',
      type: 'string',
      cell: (o) => {
        const about = o.involvedObject ?? o.regarding ?? {};
        return `${String(about.kind ?? '').toLowerCase()}/${about.name ?? ''}`;
      },
    },
    {
      name: 'Subobject',
      type: 'string',
      priority: 1,
      cell: (o) => (o.involvedObject ?? o.regarding)?.fieldPath ?? '',
    },
    {
      name: 'Source',
      type: 'string',
      priority: 1,
      cell: (o) => {
        const source = o.source ?? o.deprecatedSource ?? {};
        return [source.component ?? o.reportingComponent ?? o.reportingController ?? '', source.host]
          .filter(Boolean)
          .join(', ');
      },
    },
    { name: 'Message', type: 'string', cell: (o) => o.message ?? o.note ?? '' },
    {
      name: 'First Seen',
      type: 'string',
      priority: 1,
      cell: (o, now) =>
        humanAge(
          o.firstTimestamp ?? o.deprecatedFirstTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp,
          now,
        ),
    },
    { name: 'Count', type: 'string', priority: 1, cell: (o) => String(o.count ?? o.deprecatedCount ?? 1) },
    { name: 'Name', type: 'string', priority: 1, cell: (o) => o.metadata.name },
  ],
  Service: [
    name,
    { name: 'Type', type: 'string', cell: (o) => o.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (o) => o.spec?.clusterIP ?? '<none>' },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    {
      name: 'Port(s)',
      type: 'string',
      cell: (o) =>
        ((o.spec?.ports ?? []) as KubeObject[])
          .map((port) => `${port.port}/${port.protocol ?? 'TCP'}`)
          .join(',') || '<none>',
    },
    age,
    { name: 'Selector', type: 'string', priority: 1, cell: (o) => mapText(o.spec?.selector) },
  ],
  ConfigMap: [
    name,
    {
      name: 'Data',
      type: 'integer',
      cell: (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length,
    },
    age,
  ],
  Secret: [
    name,
    { name: 'Type', type: 'string', cell: (o) => o.type ?? 'Opaque' },
    { name: 'Data', type: 'integer', cell: (o) => Object.keys(o.data ?? {}).length },
    age,
  ],
  ServiceAccount: [name, { name: 'Secrets', type: 'integer', cell: (o) => (o.secrets ?? []).length }, age],
  Node: [
    name,
    {
      name: 'Status',
      type: 'string',
      cell: (o) => {
        const ready = ((o.status?.conditions ?? []) as KubeObject[]).find((each) => each.type === 'Ready');
        const state = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
        return o.spec?.unschedulable ? `${state},SchedulingDisabled` : state;
      },
    },
    {
      name: 'Roles',
      type: 'string',
      cell: (o) =>
        Object.keys(o.metadata.labels ?? {})
          .filter((key) => key.startsWith('node-role.kubernetes.io/'))
          .map((key) => key.slice('node-role.kubernetes.io/'.length))
          .join(',') || '<none>',
    },
    age,
    { name: 'Version', type: 'string', cell: (o) => o.status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, cell: (o) => nodeAddress(o, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, cell: (o) => nodeAddress(o, 'ExternalIP') },
    {
      name: 'OS-Image',
      type: 'string',
      priority: 1,
      cell: (o) => o.status?.nodeInfo?.osImage ?? '<unknown>',
    },
    {
      name: 'Kernel-Version',
      type: 'string',
      priority: 1,
      cell: (o) => o.status?.nodeInfo?.kernelVersion ?? '<unknown>',
    },
    {
      name: 'Container-Runtime',
      type: 'string',
      priority: 1,
      cell: (o) => o.status?.nodeInfo?.containerRuntimeVersion ?? '<unknown>',
    },
  ],
  Namespace: [name, { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? 'Active' }, age],
  Job: [
    name,
    { name: 'Status', type: 'string', cell: jobStatus },
    {
      name: 'Completions',
      type: 'string',
      cell: (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`,
    },
    {
      name: 'Duration',
      type: 'string',
      cell: (o, now) => {
        const start = o.status?.startTime;
        if (!start) return '';
        const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : now;
        return humanAge(start, end);
      },
    },
    age,
    ...containers(podTemplate),
    selector,
  ],
  HorizontalPodAutoscaler: [
    name,
    {
      name: 'Reference',
      type: 'string',
      cell: (o) => `${o.spec?.scaleTargetRef?.kind ?? ''}/${o.spec?.scaleTargetRef?.name ?? ''}`,
    },
    { name: 'Targets', type: 'string', cell: autoscalerTargets },
    { name: 'MinPods', type: 'string', cell: (o) => String(o.spec?.minReplicas ?? '<unset>') },
    { name: 'MaxPods', type: 'integer', cell: (o) => o.spec?.maxReplicas ?? 0 },
    { name: 'Replicas', type: 'integer', cell: (o) => o.status?.currentReplicas ?? 0 },
    age,
  ],
  EndpointSlice: [
    name,
    { name: 'AddressType', type: 'string', cell: (o) => o.addressType ?? '' },
    {
      name: 'Ports',
      type: 'string',
      cell: (o) =>
        firstThree(
          ((o.ports ?? []) as KubeObject[]).map((port) => String(port.port)),
          '<unset>',
        ),
    },
    {
      name: 'Endpoints',
      type: 'string',
      cell: (o) =>
        firstThree(
          ((o.endpoints ?? []) as KubeObject[]).flatMap((each) => (each.addresses ?? []) as string[]),
          '<unset>',
        ),
    },
    age,
  ],
  // The ready addresses with each port (printers.go's formatEndpoints).
  Endpoints: [
    name,
    {
      name: 'Endpoints',
      type: 'string',
      cell: (o) =>
        firstThree(
          ((o.subsets ?? []) as KubeObject[]).flatMap((subset) => {
            const addresses = ((subset.addresses ?? []) as KubeObject[]).map((each) => String(each.ip));
            const ports = (subset.ports ?? []) as KubeObject[];
            return ports.length === 0
              ? addresses
              : ports.flatMap((port) => addresses.map((ip) => `${ip}:${port.port}`));
          }),
          '<none>',
        ),
    },
    age,
  ],
  ControllerRevision: [
    name,
    {
      name: 'Controller',
      type: 'string',
      // `statefulset.apps/db`, as kubectl names the owner.
      cell: (o) => {
        const owner = ((o.metadata.ownerReferences ?? []) as KubeObject[]).find((each) => each.controller);
        if (!owner) return '<none>';
        const group = String(owner.apiVersion ?? '').includes('/')
          ? String(owner.apiVersion).split('/')[0]
          : '';
        return `${String(owner.kind).toLowerCase()}${group ? `.${group}` : ''}/${owner.name}`;
      },
    },
    { name: 'Revision', type: 'integer', cell: (o) => o.revision ?? 0 },
    age,
  ],
};

// A list cell as kubectl's printers write one: three items, then how many more.
function firstThree(items: readonly string[], none: string): string {
  if (items.length === 0) return none;
  const shown = items.slice(0, 3).join(',');
  return items.length > 3 ? `${shown} + ${items.length - 3} more...` : shown;
}

/** What a table's rows carry besides their cells (`?includeObject=`: None, Metadata by default, or Object). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The `includeObject` a request asks for; kubectl asks for whole objects to sort by a field (`--sort-by`). */
export function includedObject(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

/** The Table for a list of objects (or one). */
export function toTable(
  type: ResourceType,
  objects: readonly KubeObject[],
  resourceVersion: string,
  include: IncludeObject = 'Metadata',
): KubeObject {
  const columns = columnsByKind[type.kind] ?? [name, age];
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((column) => ({
      name: column.name,
      type: column.type,
      format: column.format ?? '',
      description: '',
      priority: column.priority ?? 0,
    })),
    rows: objects.map((object) => ({
      cells: columns.map((column) => column.cell(object, now)),
      ...(include === 'None'
        ? {}
        : {
            object:
              include === 'Object'
                ? object
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
          }),
    })),
  };
}

// The Status column kubectl shows: Terminating for a pod being deleted, then a waiting or
// terminated reason over the phase (k8s.io/kubernetes pkg/printers/internalversion printPod).
function podStatus(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  for (const status of (pod.status?.containerStatuses ?? []) as KubeObject[]) {
    if (status.state?.waiting?.reason && status.state.waiting.reason !== 'ContainerCreating')
      return status.state.waiting.reason;
    if (status.state?.terminated?.reason) return status.state.terminated.reason;
  }
  if ((pod.status?.containerStatuses ?? []).some((each: KubeObject) => each.state?.waiting))
    return 'ContainerCreating';
  return String(pod.status?.phase ?? 'Pending');
}

function jobStatus(job: KubeObject): string {
  const conditions = (job.status?.conditions ?? []) as KubeObject[];
  if (conditions.some((each) => each.type === 'Complete' && each.status === 'True')) return 'Complete';
  if (conditions.some((each) => each.type === 'Failed' && each.status === 'True')) return 'Failed';
  return 'Running';
}

// Restarts, and how long ago the last one was: `2 (35s ago)`.
function podRestarts(pod: KubeObject): string {
  const statuses = (pod.status?.containerStatuses ?? []) as KubeObject[];
  const restarts = statuses.reduce((sum, each) => sum + Number(each.restartCount ?? 0), 0);
  const last = statuses
    .map((each) => Date.parse(each.lastState?.terminated?.finishedAt ?? ''))
    .filter(Number.isFinite)
    .sort((a, b) => b - a)[0];
  return restarts > 0 && last !== undefined
    ? `${restarts} (${humanAge(new Date(last).toISOString(), Date.now())} ago)`
    : String(restarts);
}

// `cpu: <unknown>/80%`, as kubectl prints an autoscaler's metrics against their targets.
function autoscalerTargets(hpa: KubeObject): string {
  const metrics = (hpa.spec?.metrics ?? []) as KubeObject[];
  if (metrics.length === 0) return '<none>';
  const current = (hpa.status?.currentMetrics ?? []) as KubeObject[];
  return metrics
    .map((metric) => {
      if (metric.type !== 'Resource') return `<unknown>/<unknown>`;
      const resource = metric.resource ?? {};
      const now = current.find((each) => each.type === 'Resource' && each.resource?.name === resource.name);
      const target =
        resource.target?.type === 'Utilization'
          ? `${resource.target.averageUtilization}%`
          : String(resource.target?.averageValue ?? resource.target?.value ?? '<unknown>');
      const value =
        now?.resource?.current?.averageUtilization !== undefined
          ? `${now.resource.current.averageUtilization}%`
          : '<unknown>';
      return `${resource.name}: ${value}/${target}`;
    })
    .join(', ');
}

function labelSelectorText(selector: KubeObject | undefined): string {
  if (!selector) return '<none>';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${String(value)}`);
  for (const expression of (selector.matchExpressions ?? []) as KubeObject[]) {
    const values = ((expression.values ?? []) as string[]).join(',');
    if (expression.operator === 'In') parts.push(`${expression.key} in (${values})`);
    else if (expression.operator === 'NotIn') parts.push(`${expression.key} notin (${values})`);
    else if (expression.operator === 'Exists') parts.push(String(expression.key));
    else if (expression.operator === 'DoesNotExist') parts.push(`!${expression.key}`);
  }
  return parts.join(',') || '<none>';
}

function mapText(map: Record<string, string> | undefined): string {
  const entries = Object.entries(map ?? {});
  return entries.length > 0 ? entries.map(([key, value]) => `${key}=${value}`).join(',') : '<none>';
}

function nodeAddress(node: KubeObject, kind: string): string {
  const found = ((node.status?.addresses ?? []) as KubeObject[]).find((each) => each.type === kind);
  return found?.address ?? '<none>';
}

// kubectl's short ages: 45s, 3m, 2h, 5d.
function humanAge(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
