import { isRecord, type KubeObject } from '../shared/kubernetes/object';
import { excerpt, type Redact } from '../shared/redaction';

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

/** The last log lines of one failing container. */
export interface LogTail {
  readonly pod: string;
  readonly container: string;
  readonly lines: readonly string[];
}

/** A Warning event about the workload or its pods, as the diagnosis shows it. */
export interface WarningEvent {
  /** When it last happened (ISO 8601), or '' when the event says nothing. */
  readonly time: string;
  readonly reason: string;
  readonly count: number;
  /** `Pod/orders-api-5d9c-x2x7q`. */
  readonly object: string;
  readonly message: string;
}

/** Why one workload failed, in the words the log, the error line and the summary use. */
export interface WorkloadDiagnosis {
  readonly workload: string;
  /** The most telling reason: a pod's (CrashLoopBackOff, ImagePullBackOff, Unschedulable...), else the rollout's. */
  readonly reason: string;
  /** The rollout's verdict, as judged from the workload. */
  readonly verdict: string;
  /** One line per pod problem. */
  readonly problems: readonly string[];
  /** The last log lines of the failing containers, redacted. */
  readonly logs: readonly LogTail[];
  /** Warning events only, oldest first. */
  readonly warnings: readonly WarningEvent[];
}

type Json = Record<string, unknown>;
const rec = (value: unknown): Json => (isRecord(value) ? value : {});
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.map(rec) : []);

/** How many log lines a crash-looping container shows, and how many warnings a workload. */
export const logLineCount = 20;
const warningCount = 10;
/** A log line or event message is quoted up to this length, redacted first. */
const quotedLineLength = 300;

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

/** A pod's problems, each with its reason: waiting or terminated containers, and Unschedulable. */
function podIssues(pod: KubeObject): { reason: string; line: string }[] {
  const name = pod.metadata.name ?? '';
  const status = rec(pod.status);
  const issues: { reason: string; line: string }[] = [];
  const unscheduled = list(status.conditions).find(
    (condition) => condition.type === 'PodScheduled' && condition.status === 'False',
  );
  if (unscheduled) {
    const reason = String(unscheduled.reason ?? 'Unschedulable');
    issues.push({ reason, line: `pod ${name}: ${reason}: ${String(unscheduled.message ?? '')}`.trim() });
  }
  for (const container of containerStatuses(pod)) {
    const state = rec(container.state);
    const waiting = rec(state.waiting);
    const terminated = rec(state.terminated);
    const last = rec(rec(container.lastState).terminated);
    const label = `pod ${name}, container ${String(container.name)}`;
    if (waiting.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      const reason = String(waiting.reason);
      const image = /ImagePull|ErrImage|InvalidImageName/.test(reason)
        ? ` (image ${String(container.image)})`
        : '';
      const message = waiting.message ? `: ${String(waiting.message)}` : '';
      const lastExit =
        last.exitCode !== undefined
          ? `; last exit code ${String(last.exitCode)}${last.reason ? ` (${String(last.reason)})` : ''}`
          : '';
      issues.push({ reason, line: `${label}: ${reason}${image}${message}${lastExit}` });
    } else if (terminated.reason && terminated.exitCode !== 0) {
      const reason = String(terminated.reason);
      issues.push({
        reason,
        line: `${label}: terminated: ${reason} (exit code ${String(terminated.exitCode)})`,
      });
    }
  }
  return issues;
}

const eventTime = (event: KubeObject): string =>
  String(
    event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp ?? '',
  );

/** The Warning events, oldest first (by when each last happened), at most the 10 latest. */
export function warningEvents(events: readonly KubeObject[], redact: Redact): WarningEvent[] {
  const at = (event: KubeObject): number => Date.parse(eventTime(event)) || 0;
  return events
    .filter((event) => event.type === 'Warning')
    .map((event, index) => ({ event, index }))
    .sort((a, b) => at(a.event) - at(b.event) || a.index - b.index)
    .slice(-warningCount)
    .map(({ event }) => {
      const involved = rec(event.involvedObject ?? event.regarding);
      return {
        time: eventTime(event),
        reason: String(event.reason ?? ''),
        count: typeof event.count === 'number' ? event.count : 1,
        object: `${String(involved.kind ?? '')}/${String(involved.name ?? '')}`,
        message: excerpt(String(event.message ?? event.note ?? ''), quotedLineLength, redact),
      };
    });
}

/** Reads the evidence into a diagnosis; every quoted text is redacted before it is cut. */
export function diagnose(evidence: WorkloadEvidence, redact: Redact): WorkloadDiagnosis {
  const issues = evidence.pods.flatMap(podIssues);
  const logs: LogTail[] = [];
  for (const pod of evidence.pods) {
    for (const status of containerStatuses(pod)) {
      const key = `${pod.metadata.name ?? ''}/${String(status.name)}`;
      const lines = evidence.logs.get(key);
      if (lines && lines.length > 0)
        logs.push({
          pod: pod.metadata.name ?? '',
          container: String(status.name),
          lines: lines.map((line) => excerpt(line, quotedLineLength, redact)),
        });
    }
  }
  return {
    workload: evidence.workload,
    reason: issues[0]?.reason ?? verdictReason(evidence.verdict),
    verdict: evidence.verdict,
    problems: issues.map((issue) => excerpt(issue.line, quotedLineLength * 2, redact)),
    logs,
    warnings: warningEvents(evidence.events, redact),
  };
}

// "ProgressDeadlineExceeded: exceeded its progress deadline (...)" → ProgressDeadlineExceeded;
// "not ready within 5 s (...)" is the task's own timeout.
function verdictReason(verdict: string): string {
  return /^([A-Z][A-Za-z]+):/.exec(verdict)?.[1] ?? 'Timeout';
}

/** `Warning BackOff (x4) Pod/api-2: message`: one event as a log line. */
export function eventLine(event: WarningEvent): string {
  const count = event.count > 1 ? ` (x${event.count})` : '';
  return `Warning ${event.reason}${count} ${event.object}: ${event.message}`;
}

/**
 * One line that says why a workload failed, ending with the most telling detail: the
 * crashing container's last log line, else the pod's problem, else the rollout's verdict.
 */
export function firstCause(diagnosis: WorkloadDiagnosis): string {
  const lastLine = diagnosis.logs[0]?.lines.filter((line) => line.trim() !== '').at(-1);
  if (lastLine) {
    const { container } = diagnosis.logs[0]!;
    return `${diagnosis.workload}: ${diagnosis.reason}, container ${container} logged: ${lastLine.trim()}`;
  }
  // "pod api-1, container api: ImagePullBackOff (...)" → "container api: ImagePullBackOff (...)".
  const problem = diagnosis.problems[0]?.replace(/^pod [^,:]+(, |: )/, '');
  return `${diagnosis.workload}: ${problem ?? diagnosis.verdict}`;
}

/** The diagnosis of one failing workload as indented log lines. */
export function describeFailure(diagnosis: WorkloadDiagnosis): string[] {
  return [
    `${diagnosis.workload}: ${diagnosis.verdict}`,
    ...diagnosis.problems.map((line) => `  ${line}`),
    ...diagnosis.logs.flatMap((tail) => [
      `  pod ${tail.pod}, container ${tail.container}: last ${tail.lines.length} log ${tail.lines.length === 1 ? 'line' : 'lines'}:`,
      ...tail.lines.map((line) => `    | ${line}`),
    ]),
    ...(diagnosis.warnings.length > 0
      ? ['  warning events, oldest first:', ...diagnosis.warnings.map((event) => `    ${eventLine(event)}`)]
      : []),
  ];
}
