/**
 * Runs a step's process the way the agent does: in its own process group (so a timeout or
 * a cancel stops everything it started), reading stdout and stderr line by line as the
 * agent's process reader cuts them.
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
  /** Kills the process group when aborted. */
  readonly cancel?: AbortSignal;
  /** Each complete line, as it arrives. */
  readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** Starts the process, feeds its lines to `onLine`, and resolves once it has exited and its pipes closed. */
export function runProcess(spec: ProcessSpec): Promise<ProcessExit> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const raw = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      const decoder = new StringDecoder('utf8');
      const splitter = lineSplitter((line) => spec.onLine(line, stream));
      child[stream].on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        raw[stream] += text;
        splitter.push(text);
      });
      child[stream].on('end', () => {
        const rest = decoder.end();
        raw[stream] += rest;
        splitter.push(rest);
        splitter.end();
      });
    }
    let timedOut = false;
    let canceled = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer =
      spec.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup();
          }, spec.timeoutMs);
    const onCancel = () => {
      canceled = true;
      killGroup();
    };
    if (spec.cancel?.aborted) onCancel();
    else spec.cancel?.addEventListener('abort', onCancel, { once: true });
    const finish = () => {
      clearTimeout(timer);
      spec.cancel?.removeEventListener('abort', onCancel);
    };
    child.on('error', (error) => {
      finish();
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      finish();
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
