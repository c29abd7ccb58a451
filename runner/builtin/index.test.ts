import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allTaskData, definitionsSource } from './definitions';
import { builtinTasks } from './index';

describe('the built-in task catalog', () => {
  const tasks = builtinTasks();
  const byName = new Map(
    tasks.map((task) => [`${task.definition.name}@${task.definition.majorVersion}`, task]),
  );

  it('has every built-in the templates use, each once, each with an implementation', () => {
    assert.deepEqual([...byName.keys()].sort(), [
      'Bash@3',
      'CmdLine@2',
      'Docker@2',
      'DownloadPipelineArtifact@2',
      'ManualValidation@1',
      'NodeTool@0',
      'Npm@1',
      'PowerShell@2',
      'PublishCodeCoverageResults@1',
      'PublishCodeCoverageResults@2',
      'PublishPipelineArtifact@1',
      'PublishTestResults@2',
      'UseDotNet@2',
      'UseNode@1',
    ]);
    assert.equal(tasks.length, byName.size);
    for (const task of tasks) assert.equal(typeof task.run, 'function');
    assert.equal(allTaskData().length, tasks.length, 'no data without an implementation');
  });

  it('keeps the real inputs: names, aliases, types, defaults, options, visible rules', () => {
    const input = (task: string, name: string) =>
      byName.get(task)!.definition.inputs.find((i) => i.name === name)!;
    assert.deepEqual(input('PublishTestResults@2', 'testRunner'), {
      name: 'testRunner',
      aliases: ['testResultsFormat'],
      type: 'pickList',
      required: true,
      defaultValue: 'JUnit',
      options: { JUnit: 'JUnit', NUnit: 'NUnit', VSTest: 'VSTest', XUnit: 'XUnit', CTest: 'CTest' },
    });
    assert.deepEqual(input('DownloadPipelineArtifact@2', 'path').aliases, ['targetPath', 'downloadPath']);
    assert.deepEqual(input('DownloadPipelineArtifact@2', 'runId').aliases, ['pipelineId', 'buildId']);
    assert.equal(input('PublishPipelineArtifact@1', 'artifactType').aliases?.[0], 'publishLocation');
    assert.equal(input('Docker@2', 'command').editableOptions, true);
    assert.equal(input('Docker@2', 'Dockerfile').visibleRule, 'command = build || command = buildAndPush');
    assert.equal(input('Docker@2', 'tags').defaultValue, '$(Build.BuildId)');
    assert.equal(input('Bash@3', 'targetType').defaultValue, 'filePath');
    assert.equal(input('PublishTestResults@2', 'failTaskOnMissingResultsFile').defaultValue, 'false');
    assert.equal(input('ManualValidation@1', 'notifyUsers').required, true);
    assert.equal(input('Docker@2', 'containerRegistry').type, 'connectedService:dockerregistry');
  });

  it('keeps output variables and where each task runs', () => {
    assert.deepEqual(byName.get('Docker@2')!.definition.outputVariables, ['DockerOutput']);
    assert.deepEqual(byName.get('DownloadPipelineArtifact@2')!.definition.outputVariables, ['BuildNumber']);
    assert.deepEqual(byName.get('ManualValidation@1')!.definition.runsOn, ['server']);
    for (const [name, task] of byName) {
      if (name !== 'ManualValidation@1') assert.deepEqual(task.definition.runsOn, ['agent'], name);
    }
  });

  it('records its source and licence, and the notice names the same commit', () => {
    assert.equal(definitionsSource.repository, 'microsoft/azure-pipelines-tasks');
    assert.equal(definitionsSource.license, 'MIT');
    assert.match(definitionsSource.commit, /^[0-9a-f]{40}$/);
    const notice = readFileSync(join(__dirname, 'definitions', 'NOTICE.md'), 'utf8');
    assert.ok(notice.includes(definitionsSource.commit));
    assert.ok(notice.includes('The MIT License (MIT)'));
    for (const task of allTaskData()) assert.match(task.source, /^Tasks\/\w+V\d+\/task\.json$/);
  });
});
