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
  readonly cell: (object: KubeObject, now: number) => string | number;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (object) => object.metadata.name };
const age: Column = {
  name: 'Age',
  type: 'string',
  cell: (object, now) => humanAge(object.metadata.creationTimestamp, now),
};

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
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.readyReplicas ?? 0 },
    age,
  ],
  StatefulSet: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
    },
    age,
  ],
  DaemonSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => o.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', cell: (o) => o.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => o.status?.numberAvailable ?? 0 },
    age,
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
    {
      name: 'Restarts',
      type: 'string',
      cell: (o) =>
        String(
          ((o.status?.containerStatuses ?? []) as KubeObject[]).reduce(
            (sum, each) => sum + Number(each.restartCount ?? 0),
            0,
          ),
        ),
    },
    age,
  ],
  Event: [
    {
      name: 'Last Seen',
      type: 'string',
      cell: (o, now) => humanAge(o.lastTimestamp ?? o.metadata.creationTimestamp, now),
    },
    { name: 'Type', type: 'string', cell: (o) => o.type ?? '' },
    { name: 'Reason', type: 'string', cell: (o) => o.reason ?? '' },
    {
      name: 'Object',
      type: 'string',
      cell: (o) => `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`,
    },
    { name: 'Message', type: 'string', cell: (o) => o.message ?? '' },
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
    age,
  ],
};

/** The Table for a list of objects (or one). */
export function toTable(
  type: ResourceType,
  objects: readonly KubeObject[],
  resourceVersion: string,
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
      priority: 0,
    })),
    rows: objects.map((object) => ({
      cells: columns.map((column) => column.cell(object, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
    })),
  };
}

// The Status column kubectl shows: a waiting or terminated reason wins over the phase.
function podStatus(pod: KubeObject): string {
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

// kubectl's short ages: 45s, 3m, 2h, 5d.
function humanAge(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
