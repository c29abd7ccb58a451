/**
 * The predefined variables a step sees, at the level the service sets each: the run
 * (System.*, Build.*, Agent.* and the pipeline resources), the stage, the job and its
 * folders, and a deployment job's environment.
 */
import { join } from 'node:path';
import type { RunDirectories } from '../agent/environment';
import type { JobDirectories } from '../builtin/types';

/** What the run-level variables are made of. */
export interface RunFacts {
  readonly collectionUri: string;
  readonly project: string;
  readonly projectId: string;
  readonly definitionName: string;
  readonly definitionId: string;
  readonly runId: number;
  readonly buildNumber: string;
  readonly reason: string;
  readonly repositoryName: string;
  readonly sourceBranch: string;
  readonly sourceVersion: string;
  readonly requestedFor: string;
  readonly requestedForEmail: string;
  readonly startedAt: Date;
  readonly planId: string;
  /** Pipeline resources, by alias: the run each one resolved to. */
  readonly pipelineResources: Readonly<
    Record<
      string,
      { pipelineName: string; runId: number; runName: string; sourceBranch: string; sourceCommit: string }
    >
  >;
}

/** The run-level predefined variables. */
export function runVariables(facts: RunFacts): Record<string, string> {
  const branchName =
    facts.sourceBranch
      .replace(/^refs\/(heads|tags)\//, '')
      .split('/')
      .pop() ?? '';
  const variables: Record<string, string> = {
    'System.CollectionUri': facts.collectionUri,
    'System.TeamFoundationCollectionUri': facts.collectionUri,
    'System.TeamFoundationServerUri': facts.collectionUri,
    'System.CollectionId': '00000000-0000-0000-0000-000000000001',
    'System.TeamProject': facts.project,
    'System.TeamProjectId': facts.projectId,
    'System.DefinitionId': facts.definitionId,
    'System.DefinitionName': facts.definitionName,
    'System.HostType': 'build',
    'System.ServerType': 'Hosted',
    'System.PlanId': facts.planId,
    'System.TimelineId': facts.planId,
    'System.PipelineStartTime': facts.startedAt.toISOString(),
    'System.Culture': 'en-US',
    'System.Debug': 'false',
    'Build.BuildId': String(facts.runId),
    'Build.BuildNumber': facts.buildNumber,
    'Build.BuildUri': `vstfs:///Build/Build/${facts.runId}`,
    'Build.DefinitionName': facts.definitionName,
    'Build.DefinitionVersion': '1',
    'Build.Reason': facts.reason,
    'Build.QueuedBy': facts.requestedFor,
    'Build.RequestedFor': facts.requestedFor,
    'Build.RequestedForEmail': facts.requestedForEmail,
    'Build.Repository.Name': facts.repositoryName,
    'Build.Repository.Provider': 'TfsGit',
    'Build.SourceBranch': facts.sourceBranch,
    'Build.SourceBranchName': branchName,
    'Build.SourceVersion': facts.sourceVersion,
    'Agent.Name': 'aks-release-flow-runner',
    'Agent.MachineName': 'localhost',
    'Agent.OS': 'Linux',
    'Agent.OSArchitecture': 'X64',
    'Agent.Version': '4.266.2',
    'Agent.Id': '1',
  };
  for (const [alias, resource] of Object.entries(facts.pipelineResources)) {
    const prefix = `resources.pipeline.${alias}`;
    variables[`${prefix}.pipelineName`] = resource.pipelineName;
    variables[`${prefix}.runID`] = String(resource.runId);
    variables[`${prefix}.runName`] = resource.runName;
    variables[`${prefix}.sourceBranch`] = resource.sourceBranch;
    variables[`${prefix}.sourceCommit`] = resource.sourceCommit;
    variables[`${prefix}.pipelineID`] = resource.pipelineName;
  }
  return variables;
}

/** The stage-level predefined variables. */
export function stageVariables(stage: { name: string; displayName: string }): Record<string, string> {
  return {
    'System.StageName': stage.name,
    'System.StageDisplayName': stage.displayName,
    'System.StageAttempt': '1',
  };
}

/** The folders of one job, as the agent lays them out under its work folder. */
export function jobDirectories(agentRoot: string, jobNumber: number): RunDirectories & JobDirectories {
  const work = join(agentRoot, '_work');
  const build = join(work, String(jobNumber));
  return {
    root: agentRoot,
    home: join(agentRoot, 'home'),
    work,
    temp: join(work, '_temp'),
    build,
    workspace: build,
    sources: join(build, 's'),
    staging: join(build, 'a'),
    binaries: join(build, 'b'),
    testResults: join(build, 'TestResults'),
    tools: join(work, '_tool'),
  };
}

/** The job-level predefined variables, folders included. */
export function jobVariables(
  job: { name: string; displayName: string; id: string },
  dirs: RunDirectories & JobDirectories,
): Record<string, string> {
  return {
    'System.JobName': job.name,
    'System.JobDisplayName': job.displayName,
    'System.JobId': job.id,
    'System.JobAttempt': '1',
    'System.PhaseName': job.name,
    'System.PhaseDisplayName': job.displayName,
    'Agent.JobName': job.displayName,
    'Agent.JobStatus': 'Succeeded',
    'Agent.HomeDirectory': dirs.root,
    'Agent.WorkFolder': dirs.work,
    'Agent.RootDirectory': dirs.work,
    'Agent.BuildDirectory': dirs.workspace,
    'Agent.TempDirectory': dirs.temp,
    'Agent.ToolsDirectory': dirs.tools,
    'Pipeline.Workspace': dirs.workspace,
    'Build.SourcesDirectory': dirs.sources,
    'Build.Repository.LocalPath': dirs.sources,
    'Build.ArtifactStagingDirectory': dirs.staging,
    'Build.StagingDirectory': dirs.staging,
    'Build.BinariesDirectory': dirs.binaries,
    'System.DefaultWorkingDirectory': dirs.sources,
    'System.ArtifactsDirectory': dirs.staging,
    'Common.TestResultsDirectory': dirs.testResults,
  };
}

/** A deployment job's environment variables. */
export function environmentVariables(environment: {
  name: string;
  id: number;
  resourceName?: string;
  resourceId?: number;
}): Record<string, string> {
  return {
    'Environment.Name': environment.name,
    'Environment.Id': String(environment.id),
    ...(environment.resourceName
      ? {
          'Environment.ResourceName': environment.resourceName,
          'Environment.ResourceId': String(environment.resourceId ?? 1),
        }
      : {}),
    'Strategy.Name': 'runOnce',
    'Strategy.CycleName': '',
  };
}
