/**
 * What CmdLine@2, Bash@3 and PowerShell@2 share once their script is generated: write it
 * under Agent.TempDirectory, print the banner, run the interpreter in the working folder,
 * and judge the exit code and stderr in the real tasks' words.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { BuiltinContext, BuiltinResult } from './types';
import { issueCommand } from './support/commands';
import { StepFailure } from './support/failure';
import { pathInput } from './support/inputs';
import { commandLine, runProcess } from './support/process';

/** The banner every script task prints right before the script's own output. */
export const startingCommandOutputBanner =
  '========================== Starting Command Output ===========================';

/** A generated script and how to run it. */
export interface ScriptRun {
  /** The file's text, written as is (no BOM unless the text starts with one). */
  readonly contents: string;
  /** `.sh` or `.ps1`. */
  readonly extension: string;
  /** The interpreter's full path. */
  readonly interpreter: string;
  /** The interpreter's arguments, given the script file's path. */
  readonly argumentsFor: (scriptFile: string) => readonly string[];
  readonly failOnStderr: boolean;
  /** Extra environment for this step only (Bash@3's BASH_ENV). */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** The real task's failure lines. */
  readonly exitCodeMessage: (exitCode: number) => string;
  readonly stderrMessage: string;
}

/**
 * The `workingDirectory` input as task-lib's `getPathInput(name, required, check)` reads it:
 * rooted, and it must exist.
 */
export function scriptWorkingDirectory(context: BuiltinContext): string {
  const folder = pathInput(context, 'workingDirectory');
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new StepFailure(
      `Not found workingDirectory: ${folder}. Create the folder in an earlier step or fix the step's workingDirectory.`,
    );
  }
  return folder;
}

/** Writes the script under Agent.TempDirectory and runs it to its end. */
export async function runScript(
  context: BuiltinContext,
  workingDirectory: string,
  script: ScriptRun,
): Promise<BuiltinResult> {
  const scriptFile = join(context.dirs.temp, `${randomUUID()}${script.extension}`);
  writeFileSync(scriptFile, script.contents, { encoding: 'utf8' });

  context.output(startingCommandOutputBanner);
  const args = script.argumentsFor(scriptFile);
  context.output(commandLine(script.interpreter, args));
  const stderrLines: string[] = [];
  const outcome = await runProcess({
    file: script.interpreter,
    args,
    cwd: workingDirectory,
    env: { ...context.env, ...script.extraEnv },
    signal: context.signal,
    onLine: (line) => context.output(line),
    onStderrLine: script.failOnStderr ? (line) => stderrLines.push(line) : undefined,
  });
  if (outcome.aborted) return { status: 'Canceled', message: 'The step was canceled.' };

  // A signal ends bash with 128 + its number, as the shell reports it.
  const exitCode = outcome.exitCode ?? 128 + signalNumber(outcome.signal);
  const failures: string[] = [];
  if (exitCode !== 0) failures.push(script.exitCodeMessage(exitCode));
  if (stderrLines.length > 0) {
    failures.push(script.stderrMessage);
    for (const line of stderrLines) context.output(issueCommand('error', line, 'CustomerScript'));
  }
  if (failures.length === 0) return { status: 'Succeeded' };
  for (const failure of failures.slice(0, -1)) context.output(issueCommand('error', failure));
  return { status: 'Failed', message: failures[failures.length - 1] };
}

/** Whether the real tasks echo the script before running it: one line and no logging command. */
export function isPrintableOneLiner(script: string): boolean {
  return !script.includes('\n') && !script.toUpperCase().includes('##VSO[');
}

/** Whether `path` is an existing file (symbolic links followed). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal && constants.signals[signal]) || 1;
}
