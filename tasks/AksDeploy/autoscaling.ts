import { groupOf, isRecord, type KubeObject } from '../shared/kubernetes/object';

/**
 * The HorizontalPodAutoscaler that scales an object, if any: one in the same namespace
 * whose spec.scaleTargetRef names the object's kind, API group and name (autoscaling/v1
 * and v2 name it alike). An autoscaler owns the replica count of what it scales.
 */
export function autoscalerOf(object: KubeObject, autoscalers: readonly KubeObject[]): KubeObject | undefined {
  return autoscalers.find((autoscaler) => {
    if (autoscaler.metadata.namespace !== object.metadata.namespace) return false;
    const spec = isRecord(autoscaler.spec) ? autoscaler.spec : {};
    const target = isRecord(spec.scaleTargetRef) ? spec.scaleTargetRef : {};
    return (
      target.kind === object.kind &&
      target.name === object.metadata.name &&
      groupOf({ apiVersion: String(target.apiVersion ?? '') }) === groupOf(object)
    );
  });
}

/** The replica count an object's manifest sets, or undefined when it sets none. */
export function replicasOf(object: KubeObject): number | undefined {
  const replicas = isRecord(object.spec) ? object.spec.replicas : undefined;
  return typeof replicas === 'number' ? replicas : undefined;
}

/**
 * The object to apply with the live replica count in place of the manifest's, so that the
 * apply neither changes what the autoscaler set nor conflicts with it over spec.replicas
 * (a server-side apply of the same value shares the field instead of taking it).
 */
export function keepingLiveReplicas(object: KubeObject, live: KubeObject): KubeObject {
  const replicas = replicasOf(live);
  if (replicas === undefined || !isRecord(object.spec)) return object;
  return { ...object, spec: { ...object.spec, replicas } };
}
