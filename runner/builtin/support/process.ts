/**
 * Starts a tool as task-lib's ToolRunner does for a task (`[command]` line first, stderr
 * sent to the log with stdout), streams its output line by line, and ends its whole
 * process group when the step is cancelled: a script's children die with it.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { StepFailure } from './failure';

/** How a tool ended. */
export interface ProcessOutcome {
  /** The exit code; null when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the caller's AbortSignal ended it. */
  readonly aborted: boolean;
}

/** What to start and where its output goes. */
export interface ProcessRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** Every line of stdout and stderr, in the order each stream delivers them. */
  readonly onLine: (line: string) => void;
  /** Every line of stderr, besides onLine (for failOnStderr). */
  readonly onStderrLine?: (line: string) => void;
  /** stdout's exact bytes, for a tool whose output is data; stdout then skips onLine. */
  readonly onStdoutData?: (chunk: Buffer) => void;
  /** Text for stdin; stdin is closed at once when absent. */
  readonly input?: string;
}

/** How long a process group has after SIGTERM before SIGKILL. */
const killGraceMs = 5_000;

/** The `[command]...` line task-lib's ToolRunner prints before it starts a tool on Linux. */
export function commandLine(file: string, args: readonly string[]): string {
  return ['[command]' + file, ...args].join(' ');
}

/** Runs a tool to its end; rejects only when it cannot start at all. */
export function runProcess(request: ProcessRequest): Promise<ProcessOutcome> {
  return new Promise((resolvePromise, reject) => {
    if (request.signal.aborted) {
      resolvePromise({ exitCode: null, signal: null, aborted: true });
      return;
    }
    const child = spawn(request.file, [...request.args], {
      cwd: request.cwd,
      env: { ...request.env },
      // Its own process group, so that cancelling ends the script and everything it started.
      detached: true,
      stdio: [request.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const onAbort = () => {
      aborted = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), killGraceMs);
      killTimer.unref();
    };
    request.signal.addEventListener('abort', onAbort, { once: true });

    const streamsClosed: Promise<void>[] = [];
    const follow = (stream: NodeJS.ReadableStream | null, extra?: (line: string) => void) => {
      if (!stream) return;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        request.onLine(line);
        extra?.(line);
      });
      streamsClosed.push(new Promise((done) => lines.once('close', done)));
    };
    if (request.onStdoutData) {
      const data = request.onStdoutData;
      child.stdout?.on('data', (chunk: Buffer) => data(chunk));
    } else {
      follow(child.stdout);
    }
    follow(child.stderr, request.onStderrLine);
    if (request.input !== undefined) child.stdin?.end(request.input);

    child.once('error', (error) => {
      request.signal.removeEventListener('abort', onAbort);
      reject(new StepFailure(`Could not start ${request.file}: ${error.message}.`));
    });
    child.once('close', (exitCode, signal) => {
      request.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      // A background child may still hold the group; it ends with the step when cancelled.
      if (aborted) killGroup('SIGKILL');
      void Promise.all(streamsClosed).then(() => resolvePromise({ exitCode, signal, aborted }));
    });
  });
}

/**
 * The full path of `tool` on `pathValue` (the step's PATH, prepends included), as task-lib's
 * `which` finds it; undefined when no executable file of that name is there.
 */
export function which(tool: string, pathValue: string | undefined): string | undefined {
  if (isAbsolute(tool)) return isExecutableFile(tool) ? tool : undefined;
  for (const folder of (pathValue ?? '').split(delimiter)) {
    if (!folder) continue;
    const candidate = join(folder, tool);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
