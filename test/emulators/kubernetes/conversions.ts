import { applyDefaults } from './defaults';
import { clone, type KubeObject } from './object';
import { groupVersion, type ResourceType } from './resources';

/**
 * Conversion between a type's served version and the version its objects are stored in,
 * for the types served at more than one version: events.k8s.io/v1 Events are core/v1
 * Events with other field names (k8s.io/kubernetes pkg/apis/events/v1/conversion.go), and
 * autoscaling/v1 HorizontalPodAutoscalers are autoscaling/v2 ones with the CPU target as
 * one field (pkg/apis/autoscaling/v1/conversion.go). Every other type is stored as served.
 */
interface Conversion {
  /** The stored object as the served version shows it. */
  readonly served: (stored: KubeObject) => KubeObject;
  /** A served object as it is stored. */
  readonly stored: (served: KubeObject) => KubeObject;
}

// Core field ⇄ events.k8s.io field; the rest (reason, type, action, eventTime, series,
// related, reportingInstance) has the same name in both.
const eventFields: readonly (readonly [string, string])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function renamed(object: KubeObject, pairs: readonly (readonly [string, string])[]): KubeObject {
  const copy = clone(object);
  for (const [from, to] of pairs) {
    if (copy[from] === undefined) continue;
    copy[to] = copy[from];
    delete copy[from];
  }
  return copy;
}

const cpuUtilization = (metric: KubeObject): boolean =>
  metric.type === 'Resource' &&
  metric.resource?.name === 'cpu' &&
  metric.resource?.target?.type === 'Utilization';

const eventsV1: Conversion = {
  served: (stored) => ({
    ...renamed(stored, eventFields),
    apiVersion: 'events.k8s.io/v1',
  }),
  stored: (served) => ({
    ...renamed(
      served,
      eventFields.map(([core, events]) => [events, core] as const),
    ),
    apiVersion: 'v1',
  }),
};

const autoscalingV1: Conversion = {
  served: (stored) => {
    const spec = stored.spec ?? {};
    const metric = ((spec.metrics ?? []) as KubeObject[]).find(cpuUtilization);
    const current = ((stored.status?.currentMetrics ?? []) as KubeObject[]).find(
      (each) => each.type === 'Resource' && each.resource?.name === 'cpu',
    );
    const status = stored.status ?? {};
    return {
      apiVersion: 'autoscaling/v1',
      kind: stored.kind,
      metadata: clone(stored.metadata),
      spec: {
        scaleTargetRef: clone(spec.scaleTargetRef),
        ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
        maxReplicas: spec.maxReplicas,
        ...(metric ? { targetCPUUtilizationPercentage: metric.resource.target.averageUtilization } : {}),
      },
      status: {
        ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
        ...(status.lastScaleTime ? { lastScaleTime: status.lastScaleTime } : {}),
        currentReplicas: status.currentReplicas ?? 0,
        desiredReplicas: status.desiredReplicas ?? 0,
        ...(current?.resource?.current?.averageUtilization !== undefined
          ? { currentCPUUtilizationPercentage: current.resource.current.averageUtilization }
          : {}),
      },
    };
  },
  stored: (served) => {
    const spec = served.spec ?? {};
    const target = spec.targetCPUUtilizationPercentage;
    const status = served.status;
    const stored: KubeObject = {
      apiVersion: 'autoscaling/v2',
      kind: served.kind,
      metadata: clone(served.metadata ?? {}),
      spec: {
        scaleTargetRef: clone(spec.scaleTargetRef),
        ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
        maxReplicas: spec.maxReplicas,
        ...(target !== undefined
          ? {
              metrics: [
                {
                  type: 'Resource',
                  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } },
                },
              ],
            }
          : {}),
      },
      ...(status ? { status: clone(status) } : {}),
    };
    // Read back from storage, a v2 object is defaulted: v1's missing CPU target becomes 80%.
    applyDefaults(stored);
    return stored;
  },
};

function conversionOf(type: Pick<ResourceType, 'group' | 'version' | 'kind'>): Conversion | undefined {
  if (type.group === 'events.k8s.io' && type.kind === 'Event') return eventsV1;
  if (type.group === 'autoscaling' && type.version === 'v1' && type.kind === 'HorizontalPodAutoscaler')
    return autoscalingV1;
  return undefined;
}

/** A stored object as `type`'s version serves it (apiVersion and kind set). */
export function asServed(type: ResourceType, stored: KubeObject): KubeObject {
  const conversion = conversionOf(type);
  const served = conversion ? conversion.served(stored) : { ...stored };
  served.apiVersion = groupVersion(type);
  served.kind = type.kind;
  return served;
}

/** An object written through `type` as it is stored. */
export function asStored(type: ResourceType, served: KubeObject): KubeObject {
  const conversion = conversionOf(type);
  return conversion ? conversion.stored(served) : served;
}
