/**
 * Runs a step's process the way the agent does: in its own process group (so a timeout or
 * a cancel stops everything it started), reading stdout and stderr line by line as the
 * agent's process reader cuts them. The runner's one way to start a process: this
 * extension's tasks, and the tools the built-ins start.
 */
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

/** How a step's process ended. */
export interface ProcessExit {
  /** Exit code, or null when the process died of a signal (including a timeout or a cancel). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** Whether `cancel` aborted it. */
  readonly canceled: boolean;
  readonly durationMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One process to run. */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Kills the process group after this long. */
  readonly timeoutMs?: number;
  /** Stops the process group when aborted. */
  readonly cancel?: AbortSignal;
  /**
   * On a cancel, the group gets SIGTERM and this long to end before SIGKILL (as the agent
   * gives a cancelled step); 0, the default, kills it at once.
   */
  readonly killGraceMs?: number;
  /** Text for stdin; stdin is closed at once when absent. */
  readonly input?: string;
  /** Each complete line, as it arrives. */
  readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  /** stdout's exact bytes, for a tool whose output is data: stdout then reaches no `onLine`. */
  readonly onStdoutData?: (chunk: Buffer) => void;
}

/**
 * Starts the process, feeds its lines to `onLine`, and resolves once it has exited and its
 * pipes closed; rejects only when it cannot start at all.
 */
export function runProcess(spec: ProcessSpec): Promise<ProcessExit> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: [spec.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const raw = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      if (stream === 'stdout' && spec.onStdoutData) {
        const data = spec.onStdoutData;
        child.stdout!.on('data', (chunk: Buffer) => data(chunk));
        continue;
      }
      const decoder = new StringDecoder('utf8');
      const splitter = lineSplitter((line) => spec.onLine(line, stream));
      child[stream]!.on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        raw[stream] += text;
        splitter.push(text);
      });
      child[stream]!.on('end', () => {
        const rest = decoder.end();
        raw[stream] += rest;
        splitter.push(rest);
        splitter.end();
      });
    }
    if (spec.input !== undefined) child.stdin?.end(spec.input);
    let timedOut = false;
    let canceled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const timer =
      spec.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            signalGroup('SIGKILL');
          }, spec.timeoutMs);
    const onCancel = () => {
      canceled = true;
      if (!spec.killGraceMs) return signalGroup('SIGKILL');
      signalGroup('SIGTERM');
      graceTimer = setTimeout(() => signalGroup('SIGKILL'), spec.killGraceMs);
      graceTimer.unref();
    };
    if (spec.cancel?.aborted) onCancel();
    else spec.cancel?.addEventListener('abort', onCancel, { once: true });
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      spec.cancel?.removeEventListener('abort', onCancel);
    };
    child.on('error', (error) => {
      finish();
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      finish();
      // A background child may still hold the group; it ends with the cancelled step.
      if (canceled) signalGroup('SIGKILL');
      resolvePromise({ exitCode, signal, timedOut, canceled, durationMs: Date.now() - started, ...raw });
    });
  });
}

/**
 * Cuts a stream into lines as .NET's process reader does for the agent: a line ends at
 * `\n`, `\r\n` or a lone `\r`. A `\r` at the end of a chunk waits for the next one.
 */
export function lineSplitter(onLine: (line: string) => void) {
  let pending = '';
  return {
    push(text: string) {
      pending += text;
      const parts = pending.split(/\r\n|\n|\r(?!$)/);
      pending = parts.pop() ?? '';
      for (const part of parts) onLine(part);
    },
    end() {
      if (pending.endsWith('\r')) pending = pending.slice(0, -1);
      if (pending.length > 0) onLine(pending);
      pending = '';
    },
  };
}
