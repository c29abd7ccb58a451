import { isRecord, type KubeObject } from '../shared/kubernetes/object';

/** What the task found out about one failing workload. */
export interface WorkloadEvidence {
  /** `Deployment/orders/api`. */
  readonly workload: string;
  /** Why the rollout is judged failed: timeout, ProgressDeadlineExceeded, BackoffLimitExceeded... */
  readonly verdict: string;
  readonly pods: readonly KubeObject[];
  /** Events about the workload, its ReplicaSets and its pods. */
  readonly events: readonly KubeObject[];
  /** Last log lines of crash-looping containers, by `pod/container`. */
  readonly logs: ReadonlyMap<string, readonly string[]>;
}

/** A container that needs its last log lines read. */
export interface CrashingContainer {
  readonly pod: string;
  readonly container: string;
}

type Json = Record<string, unknown>;
const rec = (value: unknown): Json => (isRecord(value) ? value : {});
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.map(rec) : []);

/** How many log lines a crash-looping container shows, and how many events a workload. */
export const logLineCount = 20;
const eventCount = 10;

function containerStatuses(pod: KubeObject): Json[] {
  const status = rec(pod.status);
  return [...list(status.initContainerStatuses), ...list(status.containerStatuses)];
}

/** The containers whose logs explain a crash: waiting in CrashLoopBackOff or last terminated with an error. */
export function crashingContainers(pods: readonly KubeObject[]): CrashingContainer[] {
  return pods.flatMap((pod) =>
    containerStatuses(pod)
      .filter(
        (status) =>
          rec(rec(status.state).waiting).reason === 'CrashLoopBackOff' ||
          rec(rec(status.lastState).terminated).exitCode,
      )
      .map((status) => ({ pod: pod.metadata.name ?? '', container: String(status.name) })),
  );
}

/** One line per pod problem: waiting or terminated reasons with the image, and Unschedulable with the scheduler's message. */
export function podProblems(pod: KubeObject, logs: ReadonlyMap<string, readonly string[]>): string[] {
  const name = pod.metadata.name ?? '';
  const status = rec(pod.status);
  const lines: string[] = [];
  const unscheduled = list(status.conditions).find(
    (condition) => condition.type === 'PodScheduled' && condition.status === 'False',
  );
  if (unscheduled) {
    lines.push(
      `pod ${name}: ${String(unscheduled.reason ?? 'Unschedulable')}: ${String(unscheduled.message ?? '')}`.trim(),
    );
  }
  for (const container of containerStatuses(pod)) {
    const state = rec(container.state);
    const waiting = rec(state.waiting);
    const terminated = rec(state.terminated);
    const last = rec(rec(container.lastState).terminated);
    const label = `pod ${name}, container ${String(container.name)}`;
    if (waiting.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      const image = /ImagePull|ErrImage|InvalidImageName/.test(String(waiting.reason))
        ? ` (image ${String(container.image)})`
        : '';
      const message = waiting.message ? `: ${String(waiting.message)}` : '';
      const lastExit =
        last.exitCode !== undefined
          ? `; last exit code ${String(last.exitCode)}${last.reason ? ` (${String(last.reason)})` : ''}`
          : '';
      lines.push(`${label}: ${String(waiting.reason)}${image}${message}${lastExit}`);
    } else if (terminated.reason && terminated.exitCode !== 0) {
      lines.push(
        `${label}: terminated: ${String(terminated.reason)} (exit code ${String(terminated.exitCode)})`,
      );
    }
    const logLines = logs.get(`${name}/${String(container.name)}`);
    if (logLines && logLines.length > 0) {
      lines.push(`${label}: last ${logLines.length} log lines:`, ...logLines.map((line) => `    | ${line}`));
    }
  }
  return lines;
}

/** The most recent events, newest last, one line each: `Warning BackOff (x4): message`. */
export function eventLines(events: readonly KubeObject[]): string[] {
  const time = (event: KubeObject): string =>
    String(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? '');
  return [...events]
    .sort((a, b) => time(a).localeCompare(time(b)))
    .slice(-eventCount)
    .map((event) => {
      const involved = rec(event.involvedObject ?? event.regarding);
      const count = typeof event.count === 'number' && event.count > 1 ? ` (x${event.count})` : '';
      return `${String(event.type ?? 'Normal')} ${String(event.reason ?? '')}${count} ${String(involved.kind ?? '')}/${String(involved.name ?? '')}: ${String(event.message ?? event.note ?? '')}`;
    });
}

/** The diagnosis of one failing workload, as indented lines for the one error the task ends with. */
export function describeFailure(evidence: WorkloadEvidence): string[] {
  const podLines = evidence.pods.flatMap((pod) => podProblems(pod, evidence.logs));
  const events = eventLines(evidence.events);
  return [
    `${evidence.workload}: ${evidence.verdict}`,
    ...podLines.map((line) => `  ${line}`),
    ...(events.length > 0 ? ['  recent events:', ...events.map((line) => `    ${line}`)] : []),
  ];
}
