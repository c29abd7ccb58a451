/**
 * CmdLine@2 on Linux (Tasks/CmdLineV2/cmdline.ts): the script is written to a `.sh` file
 * under Agent.TempDirectory and run with `bash --noprofile --norc <file>`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BuiltinContext, BuiltinResult } from './types';
import { taskData, taskMessage } from './definitions';
import { settle, StepFailure } from './support/failure';
import { booleanInput } from './support/inputs';
import { which } from './support/process';
import { isPrintableOneLiner, runScript, scriptWorkingDirectory } from './script-host';

const task = taskData('CmdLine', 2);

/** Runs a CmdLine@2 (`script:`) step. */
export function runCmdLine(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const failOnStderr = booleanInput(context, 'failOnStderr');
    let script = context.inputs.script ?? '';
    const workingDirectory = scriptWorkingDirectory(context);
    // The real task's quirk: a script that names an existing file runs that file. The task
    // process starts in System.DefaultWorkingDirectory, so a relative name is looked up there.
    if (script && existsSync(resolve(context.workingDirectory, script))) script = `exec ${script}`;

    context.output(taskMessage(task, 'GeneratingScript'));
    const bash = requireBash(context);
    if (isPrintableOneLiner(script)) {
      context.output(taskMessage(task, 'ScriptContents'));
      context.output(script);
    }
    return runScript(context, workingDirectory, {
      contents: script,
      extension: '.sh',
      interpreter: bash,
      argumentsFor: (file) => ['--noprofile', '--norc', file],
      failOnStderr,
      exitCodeMessage: (code) => taskMessage(task, 'JS_ExitCode', code),
      stderrMessage: taskMessage(task, 'JS_Stderr'),
    });
  });
}

/** bash on the step's PATH, or the one line saying it is missing. */
export function requireBash(context: BuiltinContext): string {
  const bash = which('bash', context.env.PATH);
  if (!bash)
    throw new StepFailure(
      "Unable to locate executable file: 'bash'. Install bash or put it on the step's PATH.",
    );
  return bash;
}
