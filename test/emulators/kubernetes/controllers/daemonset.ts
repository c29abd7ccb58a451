import { clone, type KubeObject } from '../object';
import { matchesLabelSelector } from '../selectors';
import {
  countAvailable,
  createOwned,
  intOrPercent,
  isPodReady,
  isPodTerminating,
  listDue,
  listKind,
  owned,
  podFromTemplate,
  recordEvent,
  remove,
  writeStatus,
  type ControllerContext,
} from './context';
import { ensureRevision } from './statefulset';

/**
 * The DaemonSet controller: one pod per node whose labels match the template's
 * nodeSelector, replaced node by node on a template change within maxUnavailable.
 */
export function reconcileDaemonSets(context: ControllerContext): void {
  const nodes = listKind(context, '', 'Node');
  for (const set of listDue(context, 'apps', 'DaemonSet')) {
    const spec = set.spec ?? {};
    const { hash } = ensureRevision(context, set, spec.template, true);
    const selector: Record<string, string> = spec.template?.spec?.nodeSelector ?? {};
    const eligible = nodes.filter((node) =>
      matchesLabelSelector({ matchLabels: selector }, node.metadata.labels ?? {}),
    );
    // A pod that is stopping no longer holds its node: its replacement may start beside it.
    let pods = owned(context, set, '', 'Pod').filter((pod) => !isPodTerminating(pod));
    for (const node of eligible) {
      if (pods.some((pod) => pod.spec?.nodeName === node.metadata.name)) continue;
      const template = clone(spec.template);
      const pod = createOwned(context, set, '', 'Pod', {
        ...podFromTemplate(template, {
          'controller-revision-hash': hash,
          'pod-template-generation': String(set.metadata.generation ?? 1),
        }),
        metadata: {
          ...podFromTemplate(template, { 'controller-revision-hash': hash }).metadata,
          generateName: `${set.metadata.name}-`,
        },
        spec: { ...clone(template.spec ?? {}), nodeName: node.metadata.name },
      });
      recordEvent(
        context,
        set,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${pod.metadata.name}`,
        'daemonset-controller',
      );
      pods.push(pod);
    }
    for (const pod of pods.filter(
      (each) => !eligible.some((node) => node.metadata.name === each.spec?.nodeName),
    )) {
      remove(context, pod);
    }
    pods = pods.filter((each) => eligible.some((node) => node.metadata.name === each.spec?.nodeName));
    const desired = eligible.length;
    const maxUnavailable =
      intOrPercent(spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired, false) || 1;
    if (spec.updateStrategy?.type !== 'OnDelete') {
      const unavailable = desired - pods.filter(isPodReady).length;
      const outdated = pods.filter((pod) => pod.metadata.labels?.['controller-revision-hash'] !== hash);
      // Unready old pods go first; ready ones only while the unavailable budget allows.
      const order = [...outdated].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)));
      let budget = maxUnavailable - unavailable;
      for (const pod of order) {
        if (isPodReady(pod) && budget <= 0) break;
        remove(context, pod);
        recordEvent(
          context,
          set,
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${pod.metadata.name}`,
          'daemonset-controller',
        );
        if (isPodReady(pod)) budget -= 1;
        pods = pods.filter((each) => each !== pod);
      }
    }
    const ready = pods.filter(isPodReady).length;
    const available = countAvailable(context, pods, spec.minReadySeconds);
    const updated = pods.filter((pod) => pod.metadata.labels?.['controller-revision-hash'] === hash);
    const status: KubeObject = {
      currentNumberScheduled: pods.length,
      numberMisscheduled: 0,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: set.metadata.generation,
      updatedNumberScheduled: updated.length,
      numberAvailable: available,
      numberUnavailable: Math.max(0, desired - available),
    };
    for (const key of ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled'])
      if (status[key] === 0) delete status[key];
    writeStatus(context, set, status);
  }
}
