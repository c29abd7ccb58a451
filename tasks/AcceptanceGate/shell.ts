import { spawn, spawnSync } from 'node:child_process';

/**
 * Runs the test command in the platform's shell, in a process group of its own, with a
 * time limit. A suite may start children (a browser, a server, `npm` starting `mocha`), and
 * a command that hangs must not hang the gate: at the limit the whole group is asked to
 * stop (SIGTERM), and what is still running after a grace period is killed (SIGKILL). While
 * it runs, `onProgress` is called at a fixed interval so the log never looks dead.
 */

/** How long the command may run, and how it reports that it still is. */
export interface ShellLimits {
  readonly timeoutMs: number;
  /** How long the group has between SIGTERM and SIGKILL. */
  readonly graceMs: number;
  readonly progressEveryMs: number;
  readonly onProgress: (elapsedMs: number) => void;
}

/** How the command ended: its exit code, or stopped at the time limit. */
export type ShellExit = { readonly timedOut: false; readonly exitCode: number } | { readonly timedOut: true };

const isWindows = process.platform === 'win32';

/** Runs `command` with the task's environment plus `env`; its output goes to the log as it comes. */
export function runInShell(
  command: string,
  env: Readonly<Record<string, string>>,
  cwd: string,
  limits: ShellLimits,
): Promise<ShellExit> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, {
      shell: true,
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
      // Its own process group (POSIX), so that the group's id reaches every process it starts.
      detached: !isWindows,
    });
    const pid = child.pid;
    let stopping: Promise<void> | undefined;
    const progress = setInterval(() => limits.onProgress(Date.now() - started), limits.progressEveryMs);
    const deadline = setTimeout(() => {
      if (pid !== undefined) stopping = stopGroup(pid, limits.graceMs);
    }, limits.timeoutMs);
    // A cancelled job stops the task; the suite, in a group of its own, would run on without this.
    const onCancel = (signal: NodeJS.Signals) => {
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    };
    process.once('SIGINT', onCancel);
    process.once('SIGTERM', onCancel);
    const settle = () => {
      clearInterval(progress);
      clearTimeout(deadline);
      process.off('SIGINT', onCancel);
      process.off('SIGTERM', onCancel);
    };
    child.on('error', (error) => {
      settle();
      reject(error);
    });
    child.on('close', (code, signal) => {
      settle();
      if (stopping) {
        // The shell is gone; what it started still gets the grace period, then SIGKILL.
        void stopping.then(() => resolve({ timedOut: true }));
        return;
      }
      resolve({ timedOut: false, exitCode: code ?? (signal ? 128 : 1) });
    });
  });
}

/** SIGTERM to the group, then SIGKILL to whatever is left of it after `graceMs`. */
async function stopGroup(pid: number, graceMs: number): Promise<void> {
  if (isWindows) {
    // taskkill /T takes the tree; Windows has no SIGTERM to give it first.
    spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore' });
    return;
  }
  signalGroup(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < until) await new Promise((done) => setTimeout(done, 50));
  signalGroup(pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    if (isWindows) spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore' });
    else process.kill(-pid, signal);
  } catch {
    // ESRCH: the group has already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
