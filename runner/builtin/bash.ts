/**
 * Bash@3 on Linux (Tasks/BashV3/bash.ts): an inline script, or `exec bash '<file>' <arguments>`
 * for a file, written to a `.sh` file under Agent.TempDirectory and run with `bash <file>`.
 */
import type { BuiltinContext, BuiltinResult } from './types';
import { taskData, taskMessage } from './definitions';
import { settle, StepFailure } from './support/failure';
import { booleanInput, choiceInput, pathInput, textInput } from './support/inputs';
import { requireBash } from './cmd-line';
import { isFile, isPrintableOneLiner, runScript, scriptWorkingDirectory } from './script-host';

const task = taskData('Bash', 3);

/** Runs a Bash@3 (`bash:`) step. */
export function runBash(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const failOnStderr = booleanInput(context, 'failOnStderr');
    const workingDirectory = scriptWorkingDirectory(context);
    const targetType = choiceInput(context, 'targetType', ['filePath', 'inline'], 'filePath');
    const bashEnv = textInput(context, 'bashEnvValue');
    const extraEnv: Record<string, string> = {};
    if (bashEnv) {
      if (context.env.BASH_ENV)
        context.output(taskMessage(task, 'JS_BashEnvAlreadyDefined', context.env.BASH_ENV, bashEnv));
      extraEnv.BASH_ENV = bashEnv;
    }

    let contents: string;
    if (targetType === 'filePath') {
      const filePath = pathInput(context, 'filePath');
      if (!textInput(context, 'filePath') || !isFile(filePath)) {
        throw new StepFailure(
          `${taskMessage(task, 'JS_InvalidFilePath', filePath)} Point filePath at a script file, or use targetType: inline.`,
        );
      }
      context.output(taskMessage(task, 'GeneratingScript'));
      contents = `exec bash '${filePath.replace(/'/g, "'\\''")}' ${textInput(context, 'arguments')}`.trim();
      requireBash(context);
      context.output(taskMessage(task, 'JS_FormattedCommand', contents));
    } else {
      contents = context.inputs.script ?? '';
      context.output(taskMessage(task, 'GeneratingScript'));
      requireBash(context);
      if (isPrintableOneLiner(contents)) {
        context.output(taskMessage(task, 'JS_ScriptContents'));
        context.output(contents);
      }
    }
    return runScript(context, workingDirectory, {
      contents,
      extension: '.sh',
      interpreter: requireBash(context),
      argumentsFor: (file) => [file],
      failOnStderr,
      extraEnv,
      exitCodeMessage: (code) => taskMessage(task, code === 137 ? 'JS_ExitCode_137' : 'JS_ExitCode', code),
      stderrMessage: taskMessage(task, 'JS_Stderr'),
    });
  });
}
