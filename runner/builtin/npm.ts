/**
 * Npm@1 (Tasks/NpmV1): `npm ci`, `npm install` or a custom command, run with the `npm` on
 * the step's PATH (so after NodeTool/UseNode) in `workingDir`. Publishing is refused: a
 * local run must not publish a package to a real registry.
 */
import { statSync } from 'node:fs';
import type { BuiltinContext, BuiltinResult } from './types';
import { taskData, taskMessage } from './definitions';
import { settle, StepFailure } from './support/failure';
import {
  booleanInput,
  choiceInput,
  pathInput,
  requiredInput,
  splitArguments,
  textInput,
} from './support/inputs';
import { commandLine, runProcess, which } from './support/process';

const task = taskData('Npm', 1);

/** Runs an Npm@1 step. */
export function runNpm(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const command = choiceInput(context, 'command', ['ci', 'install', 'publish', 'custom'], 'install');
    if (command === 'publish') {
      throw new StepFailure(
        'Npm@1 command publish is not run locally: it would publish to a real registry. Publish from Azure Pipelines, or check the package with command: custom and customCommand: publish --dry-run.',
      );
    }
    if (textInput(context, 'customRegistry') === 'useFeed') {
      throw new StepFailure(
        'Npm@1 customRegistry: useFeed needs an Azure Artifacts feed, which this machine cannot reach: use useNpmrc (the registries in .npmrc).',
      );
    }
    if (textInput(context, 'customEndpoint')) {
      throw new StepFailure(
        'Npm@1 customEndpoint (an npm registry service connection) is not supported locally: remove it and let .npmrc name the registry.',
      );
    }
    const args = command === 'custom' ? splitArguments(requiredInput(context, 'customCommand')) : [command];
    const workingDir = pathInput(context, 'workingDir');
    if (!isDirectory(workingDir)) {
      throw new StepFailure(
        `${taskMessage(task, 'WorkingDirectoryNotDirectory')}: '${workingDir}' is not one.`,
      );
    }
    const npm = which('npm', context.env.PATH);
    if (!npm) {
      throw new StepFailure(
        "Unable to locate executable file: 'npm'. Add a NodeTool@0 or UseNode@1 step before this one.",
      );
    }
    const env: Record<string, string> = { ...context.env };
    if (booleanInput(context, 'verbose')) env.NPM_CONFIG_LOGLEVEL = 'verbose';

    context.output(commandLine(npm, args));
    const outcome = await runProcess({
      file: npm,
      args,
      cwd: workingDir,
      env,
      signal: context.signal,
      onLine: (line) => context.output(line),
    });
    if (outcome.aborted) return { status: 'Canceled', message: 'The step was canceled.' };
    if (outcome.exitCode !== 0) {
      return {
        status: 'Failed',
        message: taskMessage(task, 'NpmFailed', outcome.exitCode ?? outcome.signal),
      };
    }
    return { status: 'Succeeded' };
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
