/**
 * NodeTool@0 and UseNode@1 against the Node.js installations this machine has
 * (`machine.nodeInstallations`): the highest one that satisfies the spec, as
 * azure-pipelines-tool-lib's `evaluateVersions` picks it (semver `satisfies`), put first on
 * PATH with `##vso[task.prependpath]`. Nothing is downloaded: this machine has no route to
 * nodejs.org, so `checkLatest` can only mean the highest installed match.
 */
import { arch, platform } from 'node:os';
import type { BuiltinContext, BuiltinResult } from './types';
import { deprecationWarnings, taskData, taskMessage, type BuiltinTaskData } from './definitions';
import { issueCommand, prependPathCommand } from './support/commands';
import { settle, StepFailure } from './support/failure';
import { booleanInput, choiceInput, pathInput, textInput } from './support/inputs';
import { readFileSync } from 'node:fs';

interface Semver {
  valid(version: string): string | null;
  clean(version: string): string | null;
  validRange(range: string): string | null;
  maxSatisfying(versions: readonly string[], range: string): string | null;
}

// semver 5, the version task-lib and tool-lib resolve versions with (installed with
// azure-pipelines-task-lib, which package.json declares); it ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const semver: Semver = require('semver');

const nodeTool = taskData('NodeTool', 0);
const useNode = taskData('UseNode', 1);

/** Runs a NodeTool@0 step (`versionSource` spec or fromFile). */
export function runNodeTool(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    for (const warning of deprecationWarnings(nodeTool)) context.output(issueCommand('warning', warning));
    const source = choiceInput(context, 'versionSource', ['spec', 'fromFile'], 'spec');
    const spec = source === 'spec' ? textInput(context, 'versionSpec') : versionFromFile(context);
    if (!spec)
      throw new StepFailure('Input required: versionSpec. Set it to a version or range such as 20.x.');
    return useInstalledNode(context, nodeTool, 'versionSpec', spec);
  });
}

/** Runs a UseNode@1 step; without a version it changes nothing, as the real task. */
export function runUseNode(context: BuiltinContext): Promise<BuiltinResult> {
  return settle(context, async () => {
    const spec = textInput(context, 'version');
    if (!spec) return { status: 'Succeeded' };
    return useInstalledNode(context, useNode, 'version', spec);
  });
}

/** Selects an installation for `spec` and puts its bin folder first on PATH. */
function useInstalledNode(
  context: BuiltinContext,
  task: BuiltinTaskData,
  inputName: string,
  spec: string,
): BuiltinResult {
  const checkLatest = booleanInput(context, 'checkLatest');
  const selected = selectNodeInstallation(context.machine.nodeInstallations, spec, inputName, task);
  if (checkLatest) {
    context.output(
      'checkLatest: this machine cannot reach nodejs.org, so the highest installed match is used.',
    );
  }
  context.output(`Found tool in cache: node ${selected.version} ${nodeArch()} (${spec})`);
  context.output(`Prepending PATH environment variable with directory: ${selected.binFolder}`);
  context.output(prependPathCommand(selected.binFolder));
  return { status: 'Succeeded' };
}

/** One Node.js installation of the machine. */
export interface NodeInstallation {
  readonly version: string;
  readonly binFolder: string;
}

/**
 * The highest installation satisfying `spec` (an exact version, `20.x`, `24`, `>=22`...);
 * a spec semver cannot read, or one nothing matches, is one line naming what is installed.
 */
export function selectNodeInstallation(
  installations: readonly NodeInstallation[],
  spec: string,
  inputName: string,
  task: BuiltinTaskData,
): NodeInstallation & { readonly version: string } {
  const byVersion = new Map<string, NodeInstallation>();
  for (const installation of installations) {
    const version = semver.clean(installation.version);
    if (version && !byVersion.has(version)) byVersion.set(version, installation);
  }
  const installed = describeInstallations(installations);
  const range = semver.valid(semver.clean(spec) ?? '') ?? semver.validRange(spec);
  if (!range) {
    throw new StepFailure(
      `Input '${inputName}' is '${spec}', which is not a version or range: write one such as 20.x, 24, >=22 or 20.19.0 (installed here: ${installed}).`,
    );
  }
  const best = semver.maxSatisfying([...byVersion.keys()], range);
  if (!best) {
    throw new StepFailure(
      `${taskMessage(task, 'NodeVersionNotFound', spec, platform(), nodeArch())} Installed here: ${installed}; add one to nodeInstallations in the runner's resources file, or change ${inputName}.`,
    );
  }
  return { version: best, binFolder: byVersion.get(best)!.binFolder };
}

function describeInstallations(installations: readonly NodeInstallation[]): string {
  if (installations.length === 0) return 'none';
  return installations
    .map((installation) => `${installation.version} (${installation.binFolder})`)
    .join(', ');
}

/** NodeTool@0's versionFilePath (`.nvmrc`, `.node-version`): its first line, without a leading `v`. */
function versionFromFile(context: BuiltinContext): string {
  const file = pathInput(context, 'versionFilePath');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new StepFailure(
      `versionFilePath '${file}' cannot be read: point it at a file holding a version such as 20.x.`,
    );
  }
  return (text.split(/\r?\n/, 1)[0] ?? '').trim().replace(/^v/i, '');
}

/** The architecture as Node.js downloads name it (tool-lib's osArch). */
function nodeArch(): string {
  return arch() === 'ia32' ? 'x86' : arch();
}
