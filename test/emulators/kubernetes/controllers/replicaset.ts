import type { KubeObject } from '../object';
import {
  countAvailable,
  createOwned,
  isPodReady,
  isPodTerminal,
  isPodTerminating,
  listDue,
  owned,
  podFromTemplate,
  recordEvent,
  remove,
  writeStatus,
  type ControllerContext,
} from './context';

/**
 * The ReplicaSet controller: keeps `spec.replicas` pods from the template, reports their
 * readiness. Pods that are finished or terminating do not count (controller.FilterActivePods).
 */
export function reconcileReplicaSets(context: ControllerContext): void {
  for (const replicaSet of listDue(context, 'apps', 'ReplicaSet')) {
    const pods = owned(context, replicaSet, '', 'Pod').filter(
      (pod) => !isPodTerminal(pod) && !isPodTerminating(pod),
    );
    const desired = Number(replicaSet.spec?.replicas ?? 1);
    if (pods.length < desired) {
      for (let i = pods.length; i < desired; i++) {
        const pod = createOwned(context, replicaSet, '', 'Pod', {
          ...podFromTemplate(replicaSet.spec.template, {}),
          metadata: {
            ...podFromTemplate(replicaSet.spec.template, {}).metadata,
            generateName: `${replicaSet.metadata.name}-`,
          },
        });
        recordEvent(
          context,
          replicaSet,
          'Normal',
          'SuccessfulCreate',
          `Created pod: ${pod.metadata.name}`,
          'replicaset-controller',
        );
        pods.push(pod);
      }
    } else if (pods.length > desired) {
      // Delete the least useful first: unscheduled, then not ready, then the newest.
      const rank = (pod: KubeObject) => (pod.spec?.nodeName ? 1 : 0) + (isPodReady(pod) ? 2 : 0);
      const victims = [...pods]
        .sort(
          (a, b) =>
            rank(a) - rank(b) ||
            String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
        )
        .slice(0, pods.length - desired);
      for (const pod of victims) {
        remove(context, pod);
        recordEvent(
          context,
          replicaSet,
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${pod.metadata.name}`,
          'replicaset-controller',
        );
        pods.splice(pods.indexOf(pod), 1);
      }
    }
    const ready = pods.filter(isPodReady).length;
    writeStatus(context, replicaSet, {
      replicas: pods.length,
      fullyLabeledReplicas: pods.length,
      readyReplicas: ready,
      availableReplicas: countAvailable(context, pods, replicaSet.spec?.minReadySeconds),
      observedGeneration: replicaSet.metadata.generation,
    });
  }
}
