/**
 * Runs a compiled pipeline the way Azure Pipelines does, on this machine: stages and jobs
 * in the order their dependencies allow (one job at a time, as on a single agent), each
 * with its condition, its variables (runtime expressions evaluated when it starts), output
 * variables passed on through `dependencies` and `stageDependencies`, deployment jobs on an
 * environment's Kubernetes resource, and agentless jobs. What happened goes to the log as it
 * happens and to the run folder: run.json, log.txt, the summaries and the artifacts.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApprovalSource, MachineSettings, ServiceConnection } from '../builtin/types';
import type { CompiledPipeline, Job, Stage, VariableDeclaration } from '../model';
import { artifactStore, type PipelineRunLocator } from './artifacts';
import type { RunnerTaskCatalog } from './catalog';
import {
  conditionHolds,
  counterFunction,
  statusFunctions,
  variableValue,
  type DependencyView,
  type NamedValues,
  type RunFunctions,
} from './evaluation';
import { runJob, type JobServices } from './job';
import type { RunLog } from './log';
import { runVariables, stageVariables, type RunFacts } from './predefined';
import { isSuccess, readRunRecord, worse, type JobRecord, type RunRecord, type StageRecord } from './record';
import { connectionId, type RunnerResources } from './resources';
import { expandMacros, VariableScope } from './variables';

/** What a run needs besides the pipeline. */
export interface RunOptions {
  readonly pipeline: CompiledPipeline;
  /** The pipeline's name in Azure Pipelines: what another pipeline's `resources.pipelines[].source` names. */
  readonly pipelineName: string;
  readonly resources: RunnerResources;
  readonly catalog: RunnerTaskCatalog;
  /** The folder holding every pipeline's runs: this run goes to `<runsRoot>/<pipelineName>/<runId>`. */
  readonly runsRoot: string;
  /** Queue-time variables (`--variable`). A variable the YAML declares keeps the YAML's value. */
  readonly queueVariables?: Readonly<Record<string, string>>;
  readonly approvals: ApprovalSource;
  /** Real time per pipeline time for agentless waits (ManualValidation, server job timeouts). */
  readonly timeScale: number;
  readonly log: RunLog;
  /** Node.js installations for the tool installers and this extension's tasks. */
  readonly nodeInstallations: MachineSettings['nodeInstallations'];
  /** Aborting cancels the run: the running step is stopped, later ones run only when their condition says so. */
  readonly signal?: AbortSignal;
  /** The pipeline resource run that triggered this one (CI completing starts CD). */
  readonly triggeredBy?: { readonly alias: string; readonly runFolder: string };
  readonly sourceBranch?: string;
  readonly sourceVersion?: string;
  readonly requestedFor?: { readonly name: string; readonly email: string };
}

/** The run's record and where its folder is. */
export interface RunResult {
  readonly record: RunRecord;
  readonly folder: string;
}

/** Runs the pipeline to its end and returns what happened. */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { pipeline, resources, log } = options;
  const pipelineFolder = join(options.runsRoot, options.pipelineName);
  const runId = nextRunId(pipelineFolder);
  const folder = join(pipelineFolder, String(runId));
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const startedAt = new Date();
  const canceled = () => options.signal?.aborted ?? false;

  const locator = pipelineRunLocator(resources);
  const resolvedResources = resolvePipelineResources(pipeline, locator, options.triggeredBy);
  const triggering = options.triggeredBy
    ? resolvedResources.find((resource) => resource.alias === options.triggeredBy!.alias)
    : undefined;
  const facts: RunFacts = {
    collectionUri: 'https://dev.azure.com/local/',
    project: 'local',
    projectId: '00000000-0000-0000-0000-00000000000a',
    definitionName: options.pipelineName,
    definitionId: String(definitionIdOf(options.pipelineName)),
    runId,
    buildNumber: `${formatDate(startedAt)}.${runId}`,
    reason: triggering ? 'ResourceTrigger' : 'Manual',
    repositoryName: options.pipelineName,
    sourceBranch: options.sourceBranch ?? 'refs/heads/main',
    sourceVersion: options.sourceVersion ?? '0000000000000000000000000000000000000000',
    requestedFor: options.requestedFor?.name ?? 'Local User',
    requestedForEmail: options.requestedFor?.email ?? 'local.user@localhost',
    startedAt,
    planId: randomUUID(),
    pipelineResources: Object.fromEntries(
      resolvedResources.map((resource) => [
        resource.alias,
        {
          pipelineName: resource.record.pipeline,
          runId: resource.record.runId,
          runName: resource.record.buildNumber,
          sourceBranch: resource.record.sourceBranch,
          sourceCommit: resource.record.sourceVersion,
        },
      ]),
    ),
  };

  const record: RunRecord = {
    pipeline: options.pipelineName,
    file: pipeline.file,
    runId,
    buildNumber: facts.buildNumber,
    sourceBranch: facts.sourceBranch,
    sourceVersion: facts.sourceVersion,
    reason: facts.reason,
    ...(triggering
      ? {
          triggeredBy: {
            alias: triggering.alias,
            pipeline: triggering.record.pipeline,
            runId: triggering.record.runId,
          },
        }
      : {}),
    startedAt: startedAt.toISOString(),
    result: 'Succeeded',
    durationMs: 0,
    stages: [],
    artifacts: [],
    testRuns: [],
  };
  log.runStarted(record, folder);

  const pipelineScope = new VariableScope();
  for (const [name, value] of Object.entries(options.queueVariables ?? {})) pipelineScope.set(name, value);
  for (const [name, value] of Object.entries(runVariables(facts)))
    pipelineScope.set(name, value, { readonly: true });
  pipelineScope.set('System.AccessToken', randomUUID().replaceAll('-', ''), { secret: true });
  const counters = counterStore(join(pipelineFolder, 'counters.json'));
  const resourcesValue = {
    pipeline: Object.fromEntries(
      resolvedResources.map((resource) => [
        resource.alias,
        {
          pipelineName: resource.record.pipeline,
          runID: resource.record.runId,
          runName: resource.record.buildNumber,
          sourceBranch: resource.record.sourceBranch,
          sourceCommit: resource.record.sourceVersion,
        },
      ]),
    ),
  };
  const pipelineValue = { startTime: startedAt };
  const runFunctions: RunFunctions = { counter: counterFunction(counters.next) };
  declareVariables(
    pipeline.variables,
    pipelineScope,
    resources,
    { variables: variablesValue(pipelineScope), pipeline: pipelineValue, resources: resourcesValue },
    runFunctions,
  );

  const connections = new Map<string, ServiceConnection>();
  for (const connection of resources.connections) {
    connections.set(connection.name.toLowerCase(), connection);
    connections.set(connection.id.toLowerCase(), connection);
  }
  const services: JobServices = {
    catalog: options.catalog,
    connection: (idOrName) => connections.get(idOrName.toLowerCase()),
    environmentConnection: (environment, resourceName) => {
      const resource = resources.environments[environment]?.[resourceName];
      const base = resource ? connections.get(resource.connection.toLowerCase()) : undefined;
      if (!resource || !base) return undefined;
      const id = connectionId(`environment/${environment}/${resourceName}`);
      const passed: ServiceConnection = {
        ...base,
        id,
        name: `${environment}-${resourceName}`,
        data: { ...base.data, ...(resource.namespace ? { namespace: resource.namespace } : {}) },
      };
      connections.set(id.toLowerCase(), passed);
      return passed;
    },
    artifacts: artifactStore(folder, locator),
    approvals: options.approvals,
    machine: {
      ...(resources.machine.caFile ? { caFile: resources.machine.caFile } : {}),
      hosts: resources.machine.hosts,
      nodeInstallations: options.nodeInstallations,
    },
    machineEnv: resources.machine.env,
    repositories: resources.repositories,
    timeScale: options.timeScale,
    log,
    runFolder: folder,
    canceled,
    ...(options.signal ? { signal: options.signal } : {}),
    onTestRun: (testRun) => record.testRuns.push(testRun),
  };

  const stageResults = new Map<string, StageRecord>();
  let jobNumber = 0;
  for (const stage of inDependencyOrder(pipeline.stages)) {
    const stageRecord = await runStage(stage);
    stageResults.set(stage.name, stageRecord);
    record.stages.push(stageRecord);
    writeRecord(folder, record);
  }

  record.result = overallResult(record.stages, canceled());
  record.durationMs = Date.now() - startedAt.getTime();
  record.artifacts.push(...(await services.artifacts.list({ kind: 'current' })));
  writeRecord(folder, record);
  log.runFinished(record);
  return { record, folder };

  async function runStage(stage: Stage): Promise<StageRecord> {
    const started = Date.now();
    const stageRecord: StageRecord = {
      name: stage.name,
      displayName: stage.displayName,
      result: 'Skipped',
      message: '',
      durationMs: 0,
      jobs: [],
    };
    const dependencies = Object.fromEntries(
      stage.dependsOn.map((name) => [name, stageView(stageResults.get(name))]),
    );
    const named: NamedValues = {
      variables: variablesValue(pipelineScope),
      dependencies,
      pipeline: pipelineValue,
      resources: resourcesValue,
    };
    const functions = statusFunctions({
      dependencies: Object.fromEntries(
        stage.dependsOn.map((name) => [name, stageResults.get(name)?.result ?? 'Skipped']),
      ),
      defaults: stage.dependsOn,
      canceled: canceled(),
    });
    log.stageStarted(stage.name, stage.displayName);
    const stageScope = pipelineScope.child();
    for (const [name, value] of Object.entries(stageVariables(stage)))
      stageScope.set(name, value, { readonly: true });
    let holds: boolean;
    try {
      holds = conditionHolds(stage.condition, named, functions);
      if (holds) declareVariables(stage.variables, stageScope, resources, named, runFunctions);
    } catch (error) {
      // A runtime expression the compile-time checks could not judge (a value of the wrong type).
      stageRecord.result = 'Failed';
      stageRecord.message = (error as Error).message.split('\n')[0] ?? '';
      for (const job of stage.jobs) stageRecord.jobs.push(skippedJob(job, 'its stage failed to start'));
      log.note(stageRecord.message);
      log.stageFinished(stageRecord);
      return stageRecord;
    }
    if (!holds) {
      stageRecord.message = skipReason(stage.condition, stage.dependsOn, stageResults);
      for (const job of stage.jobs) stageRecord.jobs.push(skippedJob(job, 'its stage was skipped'));
      log.note(`Skipped: ${stageRecord.message}`);
      log.stageFinished(stageRecord);
      return stageRecord;
    }
    const jobResults = new Map<string, JobRecord>();
    for (const job of inDependencyOrder(stage.jobs)) {
      const jobDependencies = Object.fromEntries(
        job.dependsOn.map((name) => [name, jobView(jobResults.get(name))]),
      );
      const stageDependencies = Object.fromEntries(
        [...stageResults.entries()].map(([name, done]) => [
          name,
          Object.fromEntries(done.jobs.map((each) => [each.name, jobView(each)])),
        ]),
      );
      jobNumber += 1;
      const jobRecord = await runJob(job, {
        services,
        stageScope,
        jobNumber,
        named: {
          pipeline: pipelineValue,
          resources: resourcesValue,
          dependencies: jobDependencies,
          stageDependencies,
        },
        dependencyResults: Object.fromEntries(
          job.dependsOn.map((name) => [name, jobResults.get(name)?.result ?? 'Skipped']),
        ),
        declareVariables: (declarations, scope, values) =>
          declareVariables(declarations, scope, resources, values, runFunctions),
      });
      jobResults.set(job.name, jobRecord);
      stageRecord.jobs.push(jobRecord);
      writeRecord(folder, record);
    }
    stageRecord.result = aggregate(stageRecord.jobs.map((each) => each.result));
    stageRecord.durationMs = Date.now() - started;
    log.stageFinished(stageRecord);
    return stageRecord;
  }
}

/**
 * Declares YAML variables into a scope, in order: a value (a whole-value `$[ ]` evaluated
 * now, macros expanded against what is already defined) or a variable group's values.
 */
function declareVariables(
  declarations: readonly VariableDeclaration[],
  scope: VariableScope,
  resources: RunnerResources,
  named: NamedValues,
  functions: RunFunctions,
): void {
  for (const declaration of declarations) {
    if (declaration.kind === 'group') {
      const group = resources.variableGroups[declaration.name];
      if (!group) throw new Error(`The variable group '${declaration.name}' is not in the resources file.`);
      for (const [name, value] of Object.entries(group.variables)) scope.set(name, value);
      for (const [name, value] of Object.entries(group.secrets)) scope.set(name, value, { secret: true });
      continue;
    }
    const evaluated = variableValue(
      declaration.value,
      { ...named, variables: variablesValue(scope) },
      functions,
    );
    scope.set(
      declaration.name,
      expandMacros(evaluated, (name) => scope.value(name)),
      {
        readonly: declaration.readonly,
      },
    );
  }
}

/** `variables` as an expression sees them: a mapping of every visible variable (secret ones too). */
export function variablesValue(scope: VariableScope): Record<string, string> {
  return Object.fromEntries(scope.all().map((variable) => [variable.name, variable.value]));
}

function stageView(stage: StageRecord | undefined): DependencyView {
  if (!stage) return { result: 'Skipped', outputs: {} };
  const outputs: Record<string, string> = {};
  for (const job of stage.jobs) {
    for (const [key, value] of Object.entries(job.outputs)) outputs[`${job.name}.${key}`] = value;
  }
  return { result: stage.result, outputs };
}

function jobView(job: JobRecord | undefined): DependencyView {
  return job ? { result: job.result, outputs: job.outputs } : { result: 'Skipped', outputs: {} };
}

function skippedJob(job: Job, why: string): JobRecord {
  return {
    name: job.name,
    displayName: job.displayName,
    kind: job.kind,
    result: 'Skipped',
    message: why,
    durationMs: 0,
    steps: [],
    outputs: {},
  };
}

function skipReason(
  condition: string | undefined,
  dependsOn: readonly string[],
  results: ReadonlyMap<string, { result: string }>,
): string {
  const notPassed = dependsOn
    .map((name) => [name, results.get(name)?.result ?? 'Skipped'] as const)
    .filter(([, result]) => !isSuccess(result as never));
  if (!condition && notPassed.length > 0) {
    return `${notPassed.map(([name, result]) => `${name} ${result.toLowerCase()}`).join(', ')}, and the condition is succeeded()`;
  }
  return `the condition '${condition ?? 'succeeded()'}' was false`;
}

/** A stage's or the run's result from its parts: all skipped is Skipped; otherwise the worst. */
export function aggregate(results: readonly JobRecord['result'][]): JobRecord['result'] {
  const ran = results.filter((result) => result !== 'Skipped');
  if (ran.length === 0) return 'Skipped';
  return ran.reduce(worse, 'Succeeded');
}

function overallResult(stages: readonly StageRecord[], canceled: boolean): RunRecord['result'] {
  if (canceled) return 'Canceled';
  const result = aggregate(stages.map((stage) => stage.result));
  return result === 'Skipped' ? 'Succeeded' : result;
}

/** Orders stages or jobs so that each comes after what it depends on; ties keep the YAML's order. */
export function inDependencyOrder<T extends { name: string; dependsOn: readonly string[] }>(
  items: readonly T[],
): T[] {
  const ordered: T[] = [];
  const placed = new Set<string>();
  const pending = [...items];
  while (pending.length > 0) {
    const index = pending.findIndex((item) =>
      item.dependsOn.every((name) => placed.has(name) || !items.some((other) => other.name === name)),
    );
    // A cycle is refused at compile time; here it would only stall, so take the rest as written.
    const [next] = pending.splice(index < 0 ? 0 : index, 1);
    ordered.push(next!);
    placed.add(next!.name);
  }
  return ordered;
}

function nextRunId(pipelineFolder: string): number {
  if (!existsSync(pipelineFolder)) return 1;
  const ids = readdirSync(pipelineFolder)
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  return ids.length === 0 ? 1 : Math.max(...ids) + 1;
}

function writeRecord(folder: string, record: RunRecord): void {
  writeFileSync(join(folder, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
}

function formatDate(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '');
}

function definitionIdOf(name: string): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) % 100_000;
  return hash + 1;
}

/** Finds another pipeline's runs through the folders the resources file names. */
function pipelineRunLocator(resources: RunnerResources): PipelineRunLocator {
  return {
    runFolder(definition, runId) {
      const folder = resources.pipelines[definition];
      if (!folder) {
        throw new Error(
          `The pipeline '${definition}' has no runs folder: name it under pipelines in the resources file.`,
        );
      }
      if (runId) return join(folder, runId);
      const latest = latestSuccessfulRun(folder);
      if (!latest) throw new Error(`The pipeline '${definition}' has no successful run in ${folder}.`);
      return latest;
    },
  };
}

/** The folder of the newest run in `folder` whose result lets a pipeline resource use it. */
export function latestSuccessfulRun(folder: string): string | undefined {
  if (!existsSync(folder)) return undefined;
  const runs = readdirSync(folder)
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => b - a);
  for (const id of runs) {
    const file = join(folder, String(id), 'run.json');
    if (existsSync(file) && isSuccess(readRunRecord(file).result)) return join(folder, String(id));
  }
  return undefined;
}

interface ResolvedPipelineResource {
  readonly alias: string;
  readonly folder: string;
  readonly record: RunRecord;
}

function resolvePipelineResources(
  pipeline: CompiledPipeline,
  locator: PipelineRunLocator,
  triggeredBy: RunOptions['triggeredBy'],
): ResolvedPipelineResource[] {
  return pipeline.pipelines.map((resource) => {
    const folder =
      triggeredBy?.alias === resource.alias ? triggeredBy.runFolder : locator.runFolder(resource.source);
    return { alias: resource.alias, folder, record: readRunRecord(join(folder, 'run.json')) };
  });
}

/** `counter(prefix, seed)`: a number per prefix that goes up by one each run, kept beside the runs. */
function counterStore(file: string): { next: (prefix: string, seed: number) => number } {
  const values: Record<string, number> = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>)
    : {};
  const seen = new Map<string, number>();
  return {
    next: (key, seed) => {
      const known = seen.get(key);
      if (known !== undefined) return known;
      const value = key in values ? values[key]! + 1 : seed;
      values[key] = value;
      seen.set(key, value);
      writeFileSync(file, JSON.stringify(values));
      return value;
    },
  };
}
