// Task catalogs for tests: this extension's tasks read from their task.json, and small
// stand-ins for the built-in tasks the templates use. The real built-in definitions live
// in runner/builtin/; these tests do not depend on them.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskCatalog, TaskDefinition, TaskInputDefinition } from '../../runner/model';

const projectRoot = join(__dirname, '..', '..');

interface TaskJson {
  id: string;
  name: string;
  version: { Major: number };
  instanceNameFormat?: string;
  runsOn?: string[];
  inputs?: {
    name: string;
    type: string;
    aliases?: string[];
    required?: boolean;
    defaultValue?: unknown;
    options?: Record<string, string>;
    properties?: Record<string, unknown>;
    visibleRule?: string;
  }[];
  outputVariables?: { name: string }[];
}

/** A task.json as the runner's TaskDefinition. */
export function definitionOf(task: TaskJson): TaskDefinition {
  const inputs: TaskInputDefinition[] = (task.inputs ?? []).map((input) => ({
    name: input.name,
    type: input.type,
    ...(input.aliases ? { aliases: input.aliases } : {}),
    ...(input.required ? { required: true } : {}),
    ...(input.defaultValue !== undefined && input.defaultValue !== ''
      ? { defaultValue: String(input.defaultValue) }
      : {}),
    ...(input.options ? { options: input.options } : {}),
    ...(String(input.properties?.EditableOptions ?? '').toLowerCase() === 'true'
      ? { editableOptions: true }
      : {}),
    ...(input.visibleRule ? { visibleRule: input.visibleRule } : {}),
  }));
  return {
    name: task.name,
    id: task.id,
    majorVersion: task.version.Major,
    inputs,
    outputVariables: (task.outputVariables ?? []).map((output) => output.name),
    ...(task.instanceNameFormat ? { instanceNameFormat: task.instanceNameFormat } : {}),
    runsOn: (task.runsOn ?? ['Agent']).some((target) => /server/i.test(target)) ? ['server'] : ['agent'],
  };
}

/** This extension's tasks, from tasks/<Task>/task.json. */
export function extensionDefinitions(): TaskDefinition[] {
  const tasksDir = join(projectRoot, 'tasks');
  return readdirSync(tasksDir)
    .filter((name) => existsSync(join(tasksDir, name, 'task.json')))
    .map((name) =>
      definitionOf(JSON.parse(readFileSync(join(tasksDir, name, 'task.json'), 'utf8')) as TaskJson),
    );
}

const text = (name: string, extra: Partial<TaskInputDefinition> = {}): TaskInputDefinition => ({
  name,
  type: 'string',
  ...extra,
});
const flag = (name: string): TaskInputDefinition => ({ name, type: 'boolean', defaultValue: 'false' });
const pick = (
  name: string,
  options: string[],
  extra: Partial<TaskInputDefinition> = {},
): TaskInputDefinition => ({
  name,
  type: 'pickList',
  options: Object.fromEntries(options.map((option) => [option, option])),
  ...extra,
});
const agent = (
  name: string,
  majorVersion: number,
  inputs: TaskInputDefinition[],
  outputVariables: string[] = [],
): TaskDefinition => ({
  name,
  majorVersion,
  inputs,
  outputVariables,
  runsOn: ['agent'],
});

/** Stand-ins for the built-in tasks the shorthands and the templates use: their inputs as documented. */
export const fakeBuiltins: readonly TaskDefinition[] = [
  agent('CmdLine', 2, [
    text('script', { required: true, defaultValue: 'echo Write your commands here' }),
    text('workingDirectory'),
    flag('failOnStderr'),
  ]),
  agent('Bash', 3, [
    pick('targetType', ['filePath', 'inline'], { defaultValue: 'filePath' }),
    text('filePath', { visibleRule: 'targetType = filePath', required: true }),
    text('arguments'),
    text('script', { visibleRule: 'targetType = inline', required: true }),
    text('workingDirectory'),
    flag('failOnStderr'),
    flag('bashEnvValue'),
  ]),
  agent('PowerShell', 2, [
    pick('targetType', ['filePath', 'inline'], { defaultValue: 'filePath' }),
    text('filePath', { visibleRule: 'targetType = filePath', required: true }),
    text('script', { visibleRule: 'targetType = inline', required: true }),
    pick('errorActionPreference', ['default', 'stop', 'continue', 'silentlyContinue'], {
      defaultValue: 'stop',
    }),
    pick('warningPreference', ['default', 'stop', 'continue', 'silentlyContinue']),
    pick('informationPreference', ['default', 'stop', 'continue', 'silentlyContinue']),
    pick('verbosePreference', ['default', 'stop', 'continue', 'silentlyContinue']),
    pick('debugPreference', ['default', 'stop', 'continue', 'silentlyContinue']),
    pick('progressPreference', ['default', 'stop', 'continue', 'silentlyContinue']),
    flag('failOnStderr'),
    flag('ignoreLASTEXITCODE'),
    flag('pwsh'),
    text('workingDirectory'),
  ]),
  agent('PublishPipelineArtifact', 1, [
    text('targetPath', { aliases: ['path'], required: true }),
    text('artifactName', { aliases: ['artifact'] }),
  ]),
  agent('DownloadPipelineArtifact', 2, [
    pick('buildType', ['current', 'specific'], { aliases: ['source'], defaultValue: 'current' }),
    text('project'),
    text('definition', { aliases: ['pipeline'], visibleRule: 'buildType == specific', required: true }),
    pick('buildVersionToDownload', ['latest', 'latestFromBranch', 'specific'], {
      visibleRule: 'buildType == specific',
      defaultValue: 'latest',
    }),
    text('pipelineId', {
      aliases: ['runId', 'buildId'],
      visibleRule: 'buildType == specific && buildVersionToDownload == specific',
      required: true,
    }),
    text('artifactName', { aliases: ['artifact'] }),
    text('itemPattern', { aliases: ['patterns'], defaultValue: '**' }),
    text('targetPath', { aliases: ['path', 'downloadPath'], required: true }),
  ]),
  agent('NodeTool', 0, [text('versionSpec', { defaultValue: '6.x' }), flag('checkLatest')]),
  agent('UseDotNet', 2, [
    pick('packageType', ['runtime', 'sdk'], { defaultValue: 'sdk' }),
    text('version'),
    flag('includePreviewVersions'),
  ]),
  agent('Docker', 2, [
    text('containerRegistry'),
    text('repository'),
    pick('command', ['buildAndPush', 'build', 'push', 'login', 'logout', 'start', 'stop'], {
      defaultValue: 'buildAndPush',
      editableOptions: true,
    }),
    text('Dockerfile', { defaultValue: '**/Dockerfile' }),
    text('buildContext', { defaultValue: '**' }),
    text('tags', { defaultValue: '$(Build.BuildId)' }),
    text('arguments'),
  ]),
  agent('PublishTestResults', 2, [
    pick('testResultsFormat', ['JUnit', 'NUnit', 'VSTest', 'XUnit', 'CTest'], {
      aliases: ['testRunner'],
      defaultValue: 'JUnit',
    }),
    text('testResultsFiles', { required: true, defaultValue: '**/TEST-*.xml' }),
    text('searchFolder', { defaultValue: '$(System.DefaultWorkingDirectory)' }),
    flag('mergeTestResults'),
    flag('failTaskOnFailedTests'),
    flag('failTaskOnMissingResultsFile'),
    text('testRunTitle'),
  ]),
  agent('PublishCodeCoverageResults', 1, [
    pick('codeCoverageTool', ['Cobertura', 'JaCoCo'], { defaultValue: 'JaCoCo' }),
    text('summaryFileLocation', { required: true }),
    text('pathToSources'),
    text('reportDirectory'),
    text('additionalCodeCoverageFiles'),
    flag('failIfCoverageEmpty'),
  ]),
  {
    name: 'ManualValidation',
    majorVersion: 1,
    inputs: [
      text('notifyUsers', { required: true }),
      text('approvers'),
      flag('allowApproversToApproveTheirOwnRuns'),
      text('instructions'),
      pick('onTimeout', ['reject', 'resume'], { defaultValue: 'reject' }),
    ],
    outputVariables: [],
    runsOn: ['server'],
  },
];

/** A catalog of the given definitions, looked up by name (any case) and major version. */
export function catalogOf(definitions: readonly TaskDefinition[]): TaskCatalog {
  return {
    find: (name, majorVersion) =>
      definitions.find(
        (definition) =>
          (definition.name.toLowerCase() === name.toLowerCase() || definition.id === name) &&
          definition.majorVersion === majorVersion,
      ),
    names: () => definitions.map((definition) => `${definition.name}@${definition.majorVersion}`),
  };
}

/** This extension's tasks and the built-in stand-ins. */
export function testCatalog(): TaskCatalog {
  return catalogOf([...extensionDefinitions(), ...fakeBuiltins]);
}
