import { timestamp, type KubeObject } from '../object';
import { listDue, listKind, recordEvent, writeObject, writeStatus, type ControllerContext } from './context';

/**
 * The scheduler: binds each pending pod to the first node whose labels satisfy its
 * nodeSelector and whose allocatable CPU and memory cover its requests; otherwise
 * PodScheduled=False, reason Unschedulable, and a FailedScheduling event worded as
 * the real scheduler words it.
 */
export function schedulePods(context: ControllerContext): void {
  const nodes = listKind(context, '', 'Node');
  for (const pod of listDue(context, '', 'Pod')) {
    if (pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const reasons = new Map<string, number>();
    const fit = nodes.find((node) => {
      const reason = misfit(pod, node);
      if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      return !reason;
    });
    const now = timestamp(new Date(context.now()));
    if (fit) {
      const bound = writeObject(context, pod, { ...pod, spec: { ...pod.spec, nodeName: fit.metadata.name } });
      writeStatus(context, bound, {
        ...bound.status,
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
      });
      recordEvent(
        context,
        bound,
        'Normal',
        'Scheduled',
        `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${fit.metadata.name}`,
        'default-scheduler',
      );
      continue;
    }
    const summary = [...reasons]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([reason, count]) => `${count} ${reason}`)
      .join(', ');
    const message = `0/${nodes.length} nodes are available: ${summary}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`;
    const already = ((pod.status?.conditions ?? []) as KubeObject[]).find(
      (each) => each.type === 'PodScheduled',
    );
    if (already?.message === message) continue;
    writeStatus(context, pod, {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          lastProbeTime: null,
          lastTransitionTime: now,
          reason: 'Unschedulable',
          message,
        },
      ],
      qosClass: qosClass(pod),
    });
    recordEvent(context, pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
  }
}

// Why a node cannot take a pod, in the scheduler's per-node wording, or undefined.
function misfit(pod: KubeObject, node: KubeObject): string | undefined {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  const selector: Record<string, string> = pod.spec?.nodeSelector ?? {};
  if (Object.entries(selector).some(([key, value]) => labels[key] !== value)) {
    return "node(s) didn't match Pod's node affinity/selector";
  }
  const allocatable = node.status?.allocatable ?? {};
  const requests = podRequests(pod);
  if (requests.cpu > cpuMillis(allocatable.cpu ?? '0')) return 'Insufficient cpu';
  if (requests.memory > bytes(allocatable.memory ?? '0')) return 'Insufficient memory';
  return undefined;
}

function podRequests(pod: KubeObject): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const container of (pod.spec?.containers ?? []) as KubeObject[]) {
    const requests = container.resources?.requests ?? container.resources?.limits ?? {};
    cpu += cpuMillis(requests.cpu ?? '0');
    memory += bytes(requests.memory ?? '0');
  }
  return { cpu, memory };
}

/** CPU quantity in millicores ("500m", "2", "0.5"). */
export function cpuMillis(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) : Number(text) * 1000;
}

/** Memory quantity in bytes ("512Mi", "2Gi", "1G", "1000"). */
export function bytes(quantity: string | number): number {
  const match = /^([\d.]+)([KMGTE]i?|k)?$/.exec(String(quantity));
  if (!match) return 0;
  const units: Record<string, number> = {
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Ei: 2 ** 60,
  };
  return Number(match[1]) * (match[2] ? units[match[2]]! : 1);
}

/** The pod's QoS class from its containers' requests and limits. */
export function qosClass(pod: KubeObject): string {
  const containers = (pod.spec?.containers ?? []) as KubeObject[];
  const any = containers.some(
    (each) =>
      Object.keys(each.resources?.requests ?? {}).length + Object.keys(each.resources?.limits ?? {}).length >
      0,
  );
  if (!any) return 'BestEffort';
  const guaranteed = containers.every(
    (each) =>
      each.resources?.limits?.cpu &&
      each.resources?.limits?.memory &&
      (!each.resources?.requests ||
        (each.resources.requests.cpu ?? each.resources.limits.cpu) === each.resources.limits.cpu),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
