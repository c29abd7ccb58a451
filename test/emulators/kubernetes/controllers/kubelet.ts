import { createHash, randomBytes } from 'node:crypto';
import { ApiError, badRequest, timestamp, type KubeObject } from '../object';
import type { ImageBehaviours } from './behaviours';
import { condition, listDue, recordEvent, writeStatus, type ControllerContext } from './context';
import { qosClass } from './scheduler';

/** What a log read asks for (the query of `GET .../pods/<name>/log`). */
export interface LogOptions {
  readonly container?: string;
  readonly previous: boolean;
  readonly tailLines?: number;
  readonly timestamps?: boolean;
  readonly sinceSeconds?: number;
}

/** Answers whether an image reference can be pulled: true or its digest when it can. */
export type ImageExists = (reference: string) => Promise<boolean | string>;

interface Terminated {
  readonly exitCode: number;
  readonly reason: string;
  readonly startedAt: number;
  readonly finishedAt: number;
}

// What the node's container runtime knows about one container of one pod.
interface ContainerRuntime {
  pull: 'unknown' | 'pulling' | 'pulled' | 'failed';
  digest?: string;
  pullFailedAt?: number;
  pullFailures: number;
  pullError?: string;
  nextPullAt?: number;
  startedAt?: number;
  restartCount: number;
  lastTerminated?: Terminated;
  final?: Terminated;
  backoffUntil?: number;
  containerId?: string;
}

interface PodRuntime {
  readonly containers: Map<string, ContainerRuntime>;
  readonly podIp: string;
  readonly startTime: number;
  readonly sent: Set<string>;
  /** When the pod last became ready (ms). */
  readySince?: number;
  /** When the kubelet began stopping the pod's containers (ms). */
  stoppingSince?: number;
}

const crashBackoffMs = 10_000;
const maxCrashBackoffMs = 300_000;
// How long ErrImagePull shows before the kubelet's back-off turns it into ImagePullBackOff.
const errImagePullMs = 1_000;
const pullBackoffMs = 10_000;

/**
 * The kubelet and container runtime of every node: pulls images (asks `imageExists`),
 * starts containers, follows each image's behaviour (ready after a delay, never ready,
 * exit and crash-loop with back-off), and writes pod status, container statuses and
 * events the way the real kubelet words them.
 */
export class Kubelet {
  private readonly pods = new Map<string, PodRuntime>();
  private nextIp = 10;

  constructor(
    private readonly context: ControllerContext,
    private readonly behaviours: ImageBehaviours,
    private readonly imageExists: ImageExists,
  ) {}

  /** One pass over the bound pods that are due; a pass over every pod forgets the deleted ones. */
  reconcile(): void {
    const pods = listDue(this.context, '', 'Pod', { includeDeleting: true });
    for (const pod of pods) {
      if (!pod.spec?.nodeName) continue;
      if (pod.metadata.deletionTimestamp) {
        this.stop(pod);
        continue;
      }
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      this.sync(pod);
    }
    if (this.context.dueUids()) return;
    const live = new Set(pods.map((pod) => pod.metadata.uid as string));
    for (const uid of this.pods.keys()) if (!live.has(uid)) this.pods.delete(uid);
  }

  /** When a pod last became ready (ms), or undefined while it is not ready. */
  readySince(uid: string): number | undefined {
    return this.pods.get(uid)?.readySince;
  }

  /**
   * The text `kubectl logs` shows for a container, or a 400 worded as the kubelet's. Each
   * line is written a millisecond after the one before, from the container's start; with
   * `timestamps` each is prefixed with that time (RFC 3339 with nanoseconds, as the kubelet
   * formats it), and `sinceSeconds` keeps the lines written since then.
   */
  readLogs(pod: KubeObject, options: LogOptions): string {
    const containers = (pod.spec?.containers ?? []) as KubeObject[];
    const names = containers.map((each) => String(each.name));
    let name = options.container;
    if (!name) {
      if (names.length !== 1) {
        throw badRequest(
          `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`,
        );
      }
      name = names[0]!;
    }
    const container = [...containers, ...((pod.spec?.initContainers ?? []) as KubeObject[])].find(
      (each) => each.name === name,
    );
    if (!container) throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    const runtime = this.pods.get(pod.metadata.uid)?.containers.get(name);
    if (options.previous) {
      if (!runtime?.lastTerminated) {
        throw badRequest(`previous terminated container "${name}" in pod "${pod.metadata.name}" not found`);
      }
    } else if (!runtime || (runtime.startedAt === undefined && !runtime.lastTerminated && !runtime.final)) {
      const waiting = ((pod.status?.containerStatuses ?? []) as KubeObject[]).find(
        (each) => each.name === name,
      )?.state?.waiting;
      const why =
        waiting?.reason === 'ImagePullBackOff' || waiting?.reason === 'ErrImagePull'
          ? 'trying and failing to pull image'
          : (waiting?.reason ?? 'ContainerCreating');
      throw new ApiError(
        400,
        'BadRequest',
        `container "${name}" in pod "${pod.metadata.name}" is waiting to start: ${why}`,
      );
    }
    const startedAt =
      (options.previous
        ? runtime.lastTerminated?.startedAt
        : (runtime.startedAt ?? runtime.final?.startedAt)) ?? this.context.now();
    const written = (this.behaviours.of(String(container.image)).logs ?? []).map((text, index) => ({
      text,
      at: startedAt + index,
    }));
    const since =
      options.sinceSeconds !== undefined ? this.context.now() - options.sinceSeconds * 1000 : -Infinity;
    const recent = written.filter((line) => line.at >= since);
    if (options.tailLines === 0) return '';
    const tail =
      options.tailLines !== undefined && options.tailLines > 0 ? recent.slice(-options.tailLines) : recent;
    return tail
      .map((line) => (options.timestamps ? `${rfc3339Nano(line.at)} ${line.text}\n` : `${line.text}\n`))
      .join('');
  }

  /**
   * A pod being deleted: its running containers are told to stop (a Killing event each),
   * and once they have exited (their stopAfterMs, at most the grace period, scaled) the
   * kubelet removes the pod for good, as it does with a delete whose grace period is 0.
   */
  private stop(pod: KubeObject): void {
    const context = this.context;
    const now = context.now();
    const runtime = this.runtimeOf(pod);
    const graceMs = Number(pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000 * context.timeScale;
    if (runtime.stoppingSince === undefined) {
      runtime.stoppingSince = now;
      for (const container of (pod.spec.containers ?? []) as KubeObject[]) {
        if (runtime.containers.get(container.name)?.startedAt === undefined) continue;
        recordEvent(
          context,
          pod,
          'Normal',
          'Killing',
          `Stopping container ${container.name}`,
          'kubelet',
          `spec.containers{${container.name}}`,
        );
      }
    }
    const stopMs = Math.max(
      0,
      ...((pod.spec.containers ?? []) as KubeObject[]).map((container) =>
        Math.min(graceMs, this.behaviours.of(String(container.image)).stopAfterMs ?? graceMs),
      ),
    );
    const stoppedAt = runtime.stoppingSince + stopMs;
    if (now < stoppedAt) {
      context.wakeAt(stoppedAt, pod);
      return;
    }
    const type = context.type('', 'Pod');
    if (context.objects.find(type, pod.metadata.namespace, pod.metadata.name)) {
      context.objects.delete(type, pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
    }
    this.pods.delete(pod.metadata.uid);
  }

  private runtimeOf(pod: KubeObject): PodRuntime {
    let runtime = this.pods.get(pod.metadata.uid);
    if (!runtime) {
      const ip = this.nextIp++;
      runtime = {
        containers: new Map(),
        podIp: `10.244.${Math.floor(ip / 250) % 250}.${(ip % 250) + 2}`,
        startTime: this.context.now(),
        sent: new Set(),
      };
      this.pods.set(pod.metadata.uid, runtime);
    }
    return runtime;
  }

  private sync(pod: KubeObject): void {
    const context = this.context;
    const now = context.now();
    const runtime = this.runtimeOf(pod);
    const inits = (pod.spec.initContainers ?? []) as KubeObject[];
    const mains = (pod.spec.containers ?? []) as KubeObject[];
    const restartPolicy = String(pod.spec.restartPolicy ?? 'Always');

    let initialized = true;
    const initStatuses = inits.map((container) => {
      const state = this.pullAndRun(pod, runtime, container, now, 'init', restartPolicy, initialized);
      if (!state.completed) initialized = false;
      return state.status;
    });
    const mainStatuses = mains.map(
      (container) => this.pullAndRun(pod, runtime, container, now, 'main', restartPolicy, initialized).status,
    );

    const allStarted =
      initialized &&
      mainStatuses.every(
        (status) => status.state.running || status.state.terminated || status.lastState.terminated,
      );
    const finals = mains.map((container) => runtime.containers.get(container.name)?.final);
    let phase = allStarted ? 'Running' : 'Pending';
    if (finals.length > 0 && finals.every((each) => each))
      phase = finals.every((each) => each!.exitCode === 0) ? 'Succeeded' : 'Failed';
    const ready = phase === 'Running' && mainStatuses.every((status) => status.ready);
    if (!ready) runtime.readySince = undefined;
    else runtime.readySince ??= now;
    const notReady = mainStatuses.filter((status) => !status.ready).map((status) => status.name);
    const at = timestamp(new Date(now));
    const previous = (pod.status?.conditions ?? []) as KubeObject[];
    const containersMessage = `containers with unready status: [${notReady.join(' ')}]`;
    const completed = phase === 'Succeeded' || phase === 'Failed';
    // Ready and ContainersReady move together here, as they do for pods without readiness gates.
    const readiness = (type: string) =>
      ready
        ? plain(condition(previous, type, 'True', '', '', at))
        : condition(
            previous,
            type,
            'False',
            completed ? 'PodCompleted' : 'ContainersNotReady',
            completed ? '' : containersMessage,
            at,
          );
    const conditions = [
      plain(condition(previous, 'PodReadyToStartContainers', 'True', '', '', at)),
      initialized
        ? plain(condition(previous, 'Initialized', 'True', '', '', at))
        : condition(
            previous,
            'Initialized',
            'False',
            'ContainersNotInitialized',
            `containers with incomplete status: [${inits.map((each) => each.name).join(' ')}]`,
            at,
          ),
      readiness('Ready'),
      readiness('ContainersReady'),
      plain(condition(previous, 'PodScheduled', 'True', '', '', at)),
    ].map((each) => ({ lastProbeTime: null, ...each }));
    const node = String(pod.spec.nodeName);
    writeStatus(context, pod, {
      phase,
      conditions,
      hostIP: nodeIp(node),
      hostIPs: [{ ip: nodeIp(node) }],
      podIP: runtime.podIp,
      podIPs: [{ ip: runtime.podIp }],
      startTime: timestamp(new Date(runtime.startTime)),
      ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
      containerStatuses: mainStatuses,
      qosClass: qosClass(pod),
    });
  }

  private pullAndRun(
    pod: KubeObject,
    runtime: PodRuntime,
    container: KubeObject,
    now: number,
    role: 'init' | 'main',
    restartPolicy: string,
    mayStart: boolean,
  ): { status: KubeObject; completed: boolean } {
    const context = this.context;
    const name = String(container.name);
    const image = String(container.image);
    const fieldPath = role === 'init' ? `spec.initContainers{${name}}` : `spec.containers{${name}}`;
    let state = runtime.containers.get(name);
    if (!state) runtime.containers.set(name, (state = { pull: 'unknown', pullFailures: 0, restartCount: 0 }));
    const once = (key: string, emit: () => void): void => {
      if (runtime.sent.has(key)) return;
      runtime.sent.add(key);
      emit();
    };
    const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
      recordEvent(context, pod, type, reason, message, 'kubelet', fieldPath);
    const base = (extra: KubeObject): KubeObject => ({
      name,
      image,
      imageID: state!.digest ? `${repositoryOf(image)}@${state!.digest}` : '',
      ...(state!.containerId ? { containerID: state!.containerId } : {}),
      lastState: state!.lastTerminated
        ? { terminated: terminatedStatus(state!.lastTerminated, state!.containerId) }
        : {},
      restartCount: state!.restartCount,
      ...extra,
    });

    if (
      state.pull === 'unknown' ||
      (state.pull === 'failed' && state.nextPullAt !== undefined && now >= state.nextPullAt)
    ) {
      const pulling = state;
      const firstAttempt = pulling.pull === 'unknown';
      pulling.pull = 'pulling';
      const startedPull = Date.now();
      event('Normal', 'Pulling', `Pulling image "${image}"`);
      void this.imageExists(image)
        .catch(() => false)
        .then((result) => {
          if (result) {
            pulling.pull = 'pulled';
            pulling.digest = typeof result === 'string' ? result : digestOf(image);
            const seconds = ((Date.now() - startedPull) / 1000).toFixed(3);
            event(
              'Normal',
              'Pulled',
              `Successfully pulled image "${image}" in ${seconds}s (${seconds}s including waiting). Image size: 4194304 bytes.`,
            );
          } else {
            pulling.pull = 'failed';
            pulling.pullFailures += 1;
            pulling.pullFailedAt = context.now();
            pulling.pullError = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`;
            const backoff =
              Math.min(pullBackoffMs * 2 ** (pulling.pullFailures - 1), maxCrashBackoffMs) *
              context.timeScale;
            pulling.nextPullAt = pulling.pullFailedAt + Math.max(backoff, 1);
            event('Warning', 'Failed', `Failed to pull image "${image}": ${pulling.pullError}`);
            event('Warning', 'Failed', 'Error: ErrImagePull');
            context.wakeAt(pulling.pullFailedAt + errImagePullMs * context.timeScale, pod);
            context.wakeAt(pulling.nextPullAt, pod);
          }
          context.wake(pod);
        });
      if (firstAttempt)
        return {
          status: base({ ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } }),
          completed: false,
        };
    }
    if (state.pull !== 'pulled') {
      if (state.pull === 'failed' && state.pullFailedAt !== undefined) {
        if (now < state.pullFailedAt + errImagePullMs * context.timeScale) {
          return {
            status: base({
              ready: false,
              started: false,
              state: { waiting: { reason: 'ErrImagePull', message: state.pullError } },
            }),
            completed: false,
          };
        }
        const key = `backoff:${name}:${state.pullFailures}`;
        once(key, () => {
          event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
          event('Warning', 'Failed', 'Error: ImagePullBackOff');
        });
        return {
          status: base({
            ready: false,
            started: false,
            state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } },
          }),
          completed: false,
        };
      }
      const waiting =
        state.pullFailures > 0
          ? { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` }
          : { reason: 'ContainerCreating' };
      return { status: base({ ready: false, started: false, state: { waiting } }), completed: false };
    }

    if (!mayStart) {
      return {
        status: base({ ready: false, started: false, state: { waiting: { reason: 'PodInitializing' } } }),
        completed: false,
      };
    }
    if (role === 'init') {
      if (!state.final) {
        const started = now;
        state.containerId = `containerd://${randomBytes(32).toString('hex')}`;
        state.final = { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: started };
        event('Normal', 'Created', `Created container ${name}`);
        event('Normal', 'Started', `Started container ${name}`);
      }
      return {
        status: base({
          ready: true,
          started: false,
          state: { terminated: terminatedStatus(state.final, state.containerId) },
        }),
        completed: true,
      };
    }

    if (state.final) {
      return {
        status: base({
          ready: false,
          started: false,
          state: { terminated: terminatedStatus(state.final, state.containerId) },
        }),
        completed: true,
      };
    }
    const behaviour = this.behaviours.of(image);
    if (behaviour.neverReady && !container.readinessProbe) {
      // Without a probe a running container is ready, so one that never is never got to run.
      return {
        status: base({ ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } }),
        completed: false,
      };
    }
    if (state.startedAt === undefined) {
      if (state.backoffUntil !== undefined && now < state.backoffUntil) {
        context.wakeAt(state.backoffUntil, pod);
        const message = `back-off ${Math.round((state.backoffUntil - (state.lastTerminated?.finishedAt ?? now)) / 1000)}s restarting failed container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
        return {
          status: base({
            ready: false,
            started: false,
            state: { waiting: { reason: 'CrashLoopBackOff', message } },
          }),
          completed: false,
        };
      }
      state.startedAt = now;
      state.containerId = `containerd://${randomBytes(32).toString('hex')}`;
      if (state.restartCount > 0)
        event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      event('Normal', 'Created', `Created container ${name}`);
      event('Normal', 'Started', `Started container ${name}`);
    }
    const startedAt = state.startedAt;
    if (behaviour.exitAfterMs !== undefined) {
      const exitAt = startedAt + behaviour.exitAfterMs;
      if (now >= exitAt) {
        const exitCode = behaviour.exitCode ?? 1;
        const terminated: Terminated = {
          exitCode,
          reason: behaviour.exitReason ?? (exitCode === 0 ? 'Completed' : 'Error'),
          startedAt,
          finishedAt: exitAt,
        };
        const restarts = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exitCode !== 0);
        state.startedAt = undefined;
        if (!restarts) {
          state.final = terminated;
          return {
            status: base({
              ready: false,
              started: false,
              state: { terminated: terminatedStatus(terminated, state.containerId) },
            }),
            completed: true,
          };
        }
        state.lastTerminated = terminated;
        state.restartCount += 1;
        const backoff = Math.min(crashBackoffMs * 2 ** (state.restartCount - 1), maxCrashBackoffMs);
        state.backoffUntil = now + backoff * context.timeScale;
        context.wakeAt(state.backoffUntil, pod);
        event(
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
        );
        const message = `back-off ${Math.round(backoff / 1000)}s restarting failed container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
        return {
          status: base({
            ready: false,
            started: false,
            state: { waiting: { reason: 'CrashLoopBackOff', message } },
          }),
          completed: false,
        };
      }
      context.wakeAt(exitAt, pod);
    }
    let ready = false;
    if (behaviour.neverReady) {
      once(`unhealthy:${name}`, () =>
        event(
          'Warning',
          'Unhealthy',
          `Readiness probe failed: ${probeFailure(container.readinessProbe, runtime.podIp)}`,
        ),
      );
    } else {
      const readyAt = startedAt + (behaviour.readyAfterMs ?? 0);
      ready = now >= readyAt;
      if (!ready) context.wakeAt(readyAt, pod);
    }
    return {
      status: base({
        ready,
        started: true,
        state: { running: { startedAt: timestamp(new Date(startedAt)) } },
      }),
      completed: false,
    };
  }
}

// What the prober reports for a failing readiness probe, by its handler (pkg/kubelet/prober).
function probeFailure(probe: KubeObject, podIp: string): string {
  if (probe.tcpSocket) return `dial tcp ${podIp}:${probe.tcpSocket.port}: connect: connection refused`;
  if (probe.exec) return `command ${JSON.stringify((probe.exec.command ?? []).join(' '))} exited with 1`;
  if (probe.grpc) return `timeout: failed to connect service "${podIp}:${probe.grpc.port}" within 1s`;
  return 'HTTP probe failed with statuscode: 503';
}

// Go's time.RFC3339Nano: the fraction without its trailing zeros, none when it is zero.
function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d+)Z$/, (_, fraction: string) => {
    const trimmed = fraction.replace(/0+$/, '');
    return trimmed ? `.${trimmed}Z` : 'Z';
  });
}

function plain(entry: KubeObject): KubeObject {
  const rest = { ...entry };
  delete rest.reason;
  delete rest.message;
  return rest;
}

function terminatedStatus(terminated: Terminated, containerId?: string): KubeObject {
  return {
    exitCode: terminated.exitCode,
    reason: terminated.reason,
    startedAt: timestamp(new Date(terminated.startedAt)),
    finishedAt: timestamp(new Date(terminated.finishedAt)),
    ...(containerId ? { containerID: containerId } : {}),
  };
}

/** The repository part of a reference (no tag, no digest). */
export function repositoryOf(reference: string): string {
  const withoutDigest = reference.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
}

// The digest a reference pins, or a stable stand-in when the check only said "exists".
function digestOf(reference: string): string {
  const pinned = /@(sha256:[a-f0-9]{64})$/.exec(reference);
  return pinned ? pinned[1]! : `sha256:${createHash('sha256').update(reference).digest('hex')}`;
}

function nodeIp(node: string): string {
  const index = Number(/(\d+)$/.exec(node)?.[1] ?? 0);
  return `10.224.0.${4 + index}`;
}
