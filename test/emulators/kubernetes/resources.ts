/**
 * The resource types an emulated cluster serves: the built-in kinds the deploy task
 * touches, and custom resources added when a CustomResourceDefinition is stored.
 * Discovery documents and REST routing are both derived from this one table.
 */

/** One servable resource (group/version/plural) and how discovery describes it. */
export interface ResourceType {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural, as in URLs. */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** Subresources served (e.g. status, log). */
  readonly subresources?: readonly string[];
  /** Set for types served because of a CRD. */
  readonly custom?: boolean;
  /** The verbs discovery lists, when not all of them (the create-only reviews). */
  readonly verbs?: readonly string[];
  /**
   * Where its objects are stored, when another type's bucket holds them: events.k8s.io
   * Events are core Events seen through another version (see conversions.ts).
   */
  readonly storedAs?: { readonly group: string; readonly resource: string };
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

/** The built-in types, at the versions a current AKS serves. */
export const builtInTypes: readonly ResourceType[] = [
  core('namespaces', 'Namespace', false, ['ns'], ['finalize', 'status']),
  core('nodes', 'Node', false, ['no'], ['status']),
  core('configmaps', 'ConfigMap', true, ['cm']),
  core('secrets', 'Secret', true),
  core('services', 'Service', true, ['svc'], ['status']),
  core('serviceaccounts', 'ServiceAccount', true, ['sa']),
  core('pods', 'Pod', true, ['po'], ['status', 'log']),
  core('events', 'Event', true, ['ev']),
  core('endpoints', 'Endpoints', true, ['ep']),
  core('persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc'], ['status']),
  core('persistentvolumes', 'PersistentVolume', false, ['pv'], ['status']),
  core('limitranges', 'LimitRange', true, ['limits']),
  core('resourcequotas', 'ResourceQuota', true, ['quota'], ['status']),
  core('replicationcontrollers', 'ReplicationController', true, ['rc'], ['status', 'scale']),
  core('podtemplates', 'PodTemplate', true),
  typed('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], ['status', 'scale']),
  typed('apps', 'v1', 'replicasets', 'ReplicaSet', true, ['rs'], ['status', 'scale']),
  typed('apps', 'v1', 'statefulsets', 'StatefulSet', true, ['sts'], ['status', 'scale']),
  typed('apps', 'v1', 'daemonsets', 'DaemonSet', true, ['ds'], ['status']),
  typed('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true),
  typed('batch', 'v1', 'jobs', 'Job', true, [], ['status']),
  typed('batch', 'v1', 'cronjobs', 'CronJob', true, ['cj'], ['status']),
  typed('networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, ['ing'], ['status']),
  typed('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, ['netpol']),
  typed('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false),
  typed('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb'], ['status']),
  // v2 first: the preferred version, as on a real 1.31 server; v1 objects are converted.
  typed(
    'autoscaling',
    'v2',
    'horizontalpodautoscalers',
    'HorizontalPodAutoscaler',
    true,
    ['hpa'],
    ['status'],
  ),
  typed(
    'autoscaling',
    'v1',
    'horizontalpodautoscalers',
    'HorizontalPodAutoscaler',
    true,
    ['hpa'],
    ['status'],
  ),
  typed('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  typed('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  typed('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  typed('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  typed(
    'apiextensions.k8s.io',
    'v1',
    'customresourcedefinitions',
    'CustomResourceDefinition',
    false,
    ['crd', 'crds'],
    ['status'],
  ),
  typed('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false, ['pc']),
  typed('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false, ['sc']),
  typed('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  {
    ...typed('events.k8s.io', 'v1', 'events', 'Event', true, ['ev']),
    storedAs: { group: '', resource: 'events' },
  },
  typed('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  review('authentication.k8s.io', 'selfsubjectreviews', 'SelfSubjectReview', false),
  review('authentication.k8s.io', 'tokenreviews', 'TokenReview', false),
  review('authorization.k8s.io', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true),
  review('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false),
  review('authorization.k8s.io', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false),
  review('authorization.k8s.io', 'subjectaccessreviews', 'SubjectAccessReview', false),
];

// A review: a request answered at once and never stored, so `create` is its only verb.
function review(group: string, resource: string, kind: string, namespaced: boolean): ResourceType {
  return { ...typed(group, 'v1', resource, kind, namespaced), verbs: ['create'] };
}

function core(
  resource: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[] = [],
  subresources: string[] = [],
): ResourceType {
  return typed('', 'v1', resource, kind, namespaced, shortNames, subresources);
}

function typed(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[] = [],
  subresources: string[] = [],
): ResourceType {
  const categories = [
    'pods',
    'services',
    'deployments',
    'replicasets',
    'statefulsets',
    'daemonsets',
    'jobs',
    'cronjobs',
    'replicationcontrollers',
  ].includes(resource)
    ? ['all']
    : [];
  return { group, version, resource, kind, namespaced, shortNames, subresources, categories };
}

/** `group/version`, or `version` for the core group. */
export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** The verbs discovery lists for every type: all of them are served. */
export const servedVerbs: readonly string[] = allVerbs;

/** The types a stored CRD serves: one per served version. */
export function typesFromCrd(crd: Record<string, unknown>): ResourceType[] {
  const spec = (crd.spec ?? {}) as {
    group?: string;
    scope?: string;
    names?: { plural?: string; kind?: string; shortNames?: string[]; categories?: string[] };
    versions?: { name: string; served?: boolean; subresources?: { status?: unknown; scale?: unknown } }[];
  };
  if (!spec.group || !spec.names?.plural || !spec.names.kind) return [];
  return (spec.versions ?? [])
    .filter((version) => version.served !== false)
    .map((version) => ({
      group: spec.group!,
      version: version.name,
      resource: spec.names!.plural!,
      kind: spec.names!.kind!,
      namespaced: spec.scope !== 'Cluster',
      shortNames: spec.names!.shortNames ?? [],
      categories: spec.names!.categories ?? [],
      subresources: [
        ...(version.subresources?.status ? ['status'] : []),
        ...(version.subresources?.scale ? ['scale'] : []),
      ],
      custom: true,
    }));
}
