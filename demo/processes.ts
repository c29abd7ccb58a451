import { readdirSync, readFileSync } from 'node:fs';

/**
 * Everything the demo starts is a descendant of its own process: the registries, the task
 * processes the harness spawns (each in its own process group, so a terminal's Ctrl-C never
 * reaches them) and whatever those start. Walking /proc finds them all, whichever module
 * started them.
 */

/** The pids of every live descendant of `root`, parents before children. */
export function descendantPids(root: number = process.pid): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentPid(Number(entry));
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Sends `signal` to every descendant except the TypeScript loader's own esbuild service,
 * which lives and dies with this process; returns how many there were.
 */
export function signalDescendants(signal: NodeJS.Signals, root: number = process.pid): number {
  const pids = descendantPids(root).filter((pid) => !isLoaderService(pid));
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // It exited between the walk and the signal.
    }
  }
  return pids.length;
}

let interruptedBy: NodeJS.Signals | undefined;

/** The signal that interrupted the demo, if one did: the run stops and the handler exits. */
export function interruption(): NodeJS.Signals | undefined {
  return interruptedBy;
}

/**
 * Runs `cleanup` once on SIGINT, SIGTERM or SIGHUP, then kills any descendant still alive
 * and exits with 128 + the signal number, as a shell reports an interrupted command.
 */
export function stopEverythingOnSignal(cleanup: () => Promise<void>, say: (line: string) => void): void {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interruptedBy) return;
      interruptedBy = signal;
      say(`\n${signal}: stopping everything the demo started...`);
      // Task processes first: they hold connections the emulators wait on when closing.
      signalDescendants('SIGTERM');
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, 8_000).unref());
      void Promise.race([cleanup().catch(() => undefined), deadline]).then(() => {
        signalDescendants('SIGKILL');
        say('Stopped.');
        process.exit(128 + (numbers[signal] ?? 0));
      });
    });
  }
}

function isLoaderService(pid: number): boolean {
  try {
    return /esbuild\0--service/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
  } catch {
    return false;
  }
}

function parentPid(pid: number): number | undefined {
  try {
    // The command name (2nd field) may hold spaces and parentheses: parse after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}
