/** A Kubernetes object as the API reads and writes it: plain JSON with the common fields typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** The metadata fields the task reads or writes. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields?: ManagedFieldsEntry[];
  [field: string]: unknown;
}

/** One entry of metadata.managedFields. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
}

/** `group/version` split; the core group is ''. */
export function groupVersionOf(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The group of an object's kind, e.g. `apps` for apps/v1; '' for the core group. */
export function groupOf(object: Pick<KubeObject, 'apiVersion'>): string {
  return groupVersionOf(object.apiVersion).group;
}

/** A readable, unique name for an object: `Deployment/orders/api`, or `Namespace//orders` when cluster-scoped. */
export function objectKey(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

/** True when `value` is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
