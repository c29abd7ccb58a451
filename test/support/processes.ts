import { readFileSync } from 'node:fs';

/** Whether `pid` is a live process; a zombie waiting to be reaped counts as gone. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name sits in parentheses and may itself hold ')', so the state follows the last one.
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/**
 * Waits up to `withinMs` for `pid` to end and says whether it did. A signal is delivered at
 * once, but on a busy machine the kernel may take a moment to end the process, so a check
 * made straight after a kill can see it still running.
 */
export async function endsWithin(pid: number, withinMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (isRunning(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return !isRunning(pid);
}
