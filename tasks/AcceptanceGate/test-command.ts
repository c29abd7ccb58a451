import { counted } from '../shared/wording';
import { TaskError } from '../shared/task-error';
import { JUnitReadError, mergeRuns, parseJUnit, type TestCase } from './junit';
import type { ShellExit } from './shell';
import { decodeText } from './text-file';

/**
 * Runs the team’s own acceptance suite: a command in a shell with STAGING_BASE_URL
 * set, then the JUnit files it wrote. When tests fail and retries are allowed, the
 * whole command runs again (a shell command cannot rerun one test), and tests that
 * pass on a later run are flaky. A command that runs past its time limit, or that the
 * shell cannot find, fails the gate with a line that says so, and is not retried.
 */

/** A JUnit file found after a run. */
export interface ResultFile {
  readonly path: string;
  readonly modifiedMs: number;
}

/** What the test runner needs from its surroundings. */
export interface TestCommandDeps {
  /** Runs `command` in a shell, stopping it (and all it started) after `timeoutMs`. */
  readonly runShell: (
    command: string,
    env: Readonly<Record<string, string>>,
    timeoutMs: number,
  ) => Promise<ShellExit>;
  /** Files matching the results glob now. */
  readonly findResults: (glob: string) => ResultFile[];
  readonly readFile: (path: string) => Uint8Array;
  readonly now: () => number;
}

/** The command, its results glob and the retries allowed. */
export interface TestCommand {
  readonly command: string;
  readonly resultsGlob: string;
  readonly baseUrl: string;
  readonly retryFailed: number;
  readonly timeoutMinutes: number;
}

/** The suite name a non-zero exit is reported under when the results show no failure. */
export const commandSuite = 'Test command';

/** Runs the command (and its retries) and returns the merged test cases. */
export async function runTestCommand(test: TestCommand, deps: TestCommandDeps): Promise<TestCase[]> {
  const runs: TestCase[][] = [];
  for (let attempt = 1; attempt <= test.retryFailed + 1; attempt++) {
    const started = deps.now();
    const exit = await deps.runShell(
      test.command,
      { STAGING_BASE_URL: test.baseUrl },
      test.timeoutMinutes * 60_000,
    );
    if (exit.timedOut)
      throw new TaskError('TestCommandTimedOut', [test.command, counted(test.timeoutMinutes, 'minute')]);
    const { exitCode } = exit;
    if (commandNotFound.includes(exitCode))
      throw new TaskError('TestCommandNotFound', [exitCode, programName(test.command), test.command]);
    const cases = readResults(test, deps, started, exitCode);
    if (exitCode !== 0 && !cases.some((testcase) => testcase.outcome === 'failed')) {
      // A suite that crashed after writing passing results must not look green.
      cases.push({
        suite: commandSuite,
        classname: commandSuite,
        name: test.command,
        outcome: 'failed',
        timeSeconds: 0,
        message: 'exited with code ' + String(exitCode),
        attempts: 1,
      });
    }
    runs.push(cases);
    if (!cases.some((testcase) => testcase.outcome === 'failed')) break;
  }
  return mergeRuns(runs);
}

/** Exit codes that mean the shell found no such command: 127 from POSIX shells, 9009 from cmd.exe. */
const commandNotFound = [127, 9009];

/** The program a command line starts: its first word, after any VAR=value assignments, without quotes. */
export function programName(command: string): string {
  const words = command.match(/(?:"[^"]*"|'[^']*'|[^\s"'])+/g) ?? [];
  const program = words.find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) ?? command;
  return program.replace(/"([^"]*)"|'([^']*)'/g, '$1$2');
}

// Files older than this run are left over from an earlier one and would report stale results.
function readResults(
  test: TestCommand,
  deps: TestCommandDeps,
  startedMs: number,
  exitCode: number,
): TestCase[] {
  const matches = deps.findResults(test.resultsGlob);
  const fresh = matches.filter((file) => file.modifiedMs >= startedMs - 1000);
  if (fresh.length === 0) {
    throw new TaskError(matches.length === 0 ? 'TestResultsNotFound' : 'TestResultsStale', [
      test.resultsGlob,
      exitCode,
      matches.length,
    ]);
  }
  return fresh.flatMap((file) => {
    const decoded = decodeText(deps.readFile(file.path));
    if (!decoded.ok) throw new TaskError('TestResultsUnreadable', [file.path, decoded.problem]);
    try {
      return parseJUnit(decoded.text);
    } catch (error) {
      if (error instanceof JUnitReadError)
        throw new TaskError('TestResultsUnreadable', [file.path, error.message]);
      throw error;
    }
  });
}
