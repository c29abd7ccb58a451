/**
 * The catalog of Microsoft's built-in tasks the runner implements locally: each real
 * task.json definition (definitions/tasks.json) paired with its local implementation.
 */
import type { TaskDefinition } from '../model';
import type { BuiltinContext, BuiltinResult, BuiltinTask } from './types';
import { runBash } from './bash';
import { runCmdLine } from './cmd-line';
import { taskData } from './definitions';
import { runDocker } from './docker/docker';
import { runManualValidation } from './manual-validation';
import { runNodeTool, runUseNode } from './node-tool';
import { runNpm } from './npm';
import { runDownloadPipelineArtifact, runPublishPipelineArtifact } from './pipeline-artifacts';
import { runPowerShell } from './powershell';
import { runPublishCodeCoverage, runPublishCodeCoverageV1 } from './publish-code-coverage';
import { runPublishTestResults } from './publish-test-results';
import { runUseDotNet } from './use-dotnet';

type Run = (context: BuiltinContext) => Promise<BuiltinResult>;

/** Each built-in by name and major version, with its implementation. */
const implementations: readonly [name: string, majorVersion: number, run: Run][] = [
  ['CmdLine', 2, runCmdLine],
  ['Bash', 3, runBash],
  ['PowerShell', 2, runPowerShell],
  ['NodeTool', 0, runNodeTool],
  ['UseNode', 1, runUseNode],
  ['Npm', 1, runNpm],
  ['PublishTestResults', 2, runPublishTestResults],
  ['PublishCodeCoverageResults', 2, runPublishCodeCoverage],
  ['PublishCodeCoverageResults', 1, runPublishCodeCoverageV1],
  ['Docker', 2, runDocker],
  ['ManualValidation', 1, runManualValidation],
  ['PublishPipelineArtifact', 1, runPublishPipelineArtifact],
  ['DownloadPipelineArtifact', 2, runDownloadPipelineArtifact],
  ['UseDotNet', 2, runUseDotNet],
];

/** Every built-in task: its definition (from the real task.json) and how it runs. */
export function builtinTasks(): readonly BuiltinTask[] {
  return implementations.map(([name, majorVersion, run]) => ({
    definition: toDefinition(taskData(name, majorVersion)),
    run,
  }));
}

/** The TaskDefinition part of the data: what the checks read, nothing else. */
function toDefinition(data: TaskDefinition): TaskDefinition {
  return {
    name: data.name,
    id: data.id,
    majorVersion: data.majorVersion,
    inputs: data.inputs,
    outputVariables: data.outputVariables,
    runsOn: data.runsOn,
  };
}
