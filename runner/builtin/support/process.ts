/**
 * Starts a tool as task-lib's ToolRunner does for a task (`[command]` line first, stderr
 * sent to the log with stdout), streams its output line by line, and ends its whole
 * process group when the step is cancelled: a script's children die with it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { runProcess as runStepProcess } from '../../agent/processes';
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

/** Runs a tool to its end (through the runner's one process runner); rejects only when it cannot start at all. */
export async function runProcess(request: ProcessRequest): Promise<ProcessOutcome> {
  if (request.signal.aborted) return { exitCode: null, signal: null, aborted: true };
  try {
    const exit = await runStepProcess({
      command: request.file,
      args: request.args,
      cwd: request.cwd,
      env: request.env,
      cancel: request.signal,
      killGraceMs,
      ...(request.input === undefined ? {} : { input: request.input }),
      ...(request.onStdoutData ? { onStdoutData: request.onStdoutData } : {}),
      onLine: (line, stream) => {
        request.onLine(line);
        if (stream === 'stderr') request.onStderrLine?.(line);
      },
    });
    return { exitCode: exit.exitCode, signal: exit.signal, aborted: exit.canceled };
  } catch (error) {
    throw new StepFailure(`Could not start ${request.file}: ${(error as Error).message}.`);
  }
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
