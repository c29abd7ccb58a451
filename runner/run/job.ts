/**
 * One job: an agent job, a deployment job on an environment (runOnce's hooks in order), or
 * an agentless job. It gets fresh folders and variables, runs its steps one after another
 * (each when its condition holds), and folds in what each step left: variables, output
 * variables, PATH additions, summaries, artifacts and test results.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type {
  ApprovalSource,
  ArtifactStore,
  MachineSettings,
  ServiceConnection,
  StepStatus,
} from '../builtin/types';
import { stepsOfJob, type DeploymentJob, type Job, type Step, type VariableDeclaration } from '../model';
import type { RunnerTaskCatalog } from './catalog';
import { conditionHolds, statusFunctions, type NamedValues } from './evaluation';
import type { RunLog } from './log';
import { environmentVariables, jobDirectories, jobVariables } from './predefined';
import { isSuccess, worse, type JobRecord, type StepRecord, type TestRunRecord } from './record';
import {
  hasPhase,
  runCheckout,
  runTaskStep,
  type StepEnvironment,
  type StepOutcome,
  type TaskPhase,
} from './step';
import { summarizeTestRun } from './test-runs';
import { expandMacros, VariableScope } from './variables';

/** What every job of a run shares. */
export interface JobServices {
  readonly catalog: RunnerTaskCatalog;
  connection(idOrName: string): ServiceConnection | undefined;
  /** The connection an environment's Kubernetes resource passes down, or undefined when it has none. */
  environmentConnection(environment: string, resourceName: string): ServiceConnection | undefined;
  readonly artifacts: ArtifactStore;
  readonly approvals: ApprovalSource;
  readonly machine: MachineSettings;
  readonly machineEnv: Readonly<Record<string, string>>;
  readonly repositories: Readonly<Record<string, string>>;
  readonly timeScale: number;
  readonly log: RunLog;
  readonly runFolder: string;
  /** Whether the run has been canceled. */
  canceled(): boolean;
  readonly signal?: AbortSignal;
  /** Receives each test run a step publishes. */
  readonly onTestRun: (run: TestRunRecord) => void;
}

/** Where a job runs within its run and stage. */
export interface JobContext {
  readonly services: JobServices;
  readonly stageScope: VariableScope;
  /** The job's number in the run: its folder under the agent's work folder. */
  readonly jobNumber: number;
  /** `pipeline`, `resources`, `dependencies` (jobs of the stage) and `stageDependencies`. */
  readonly named: NamedValues;
  /** Results of the jobs this one depends on. */
  readonly dependencyResults: Readonly<Record<string, StepStatus>>;
  readonly declareVariables: (
    declarations: readonly VariableDeclaration[],
    scope: VariableScope,
    named: NamedValues,
  ) => void;
}

/** The service's default job timeout on Microsoft-hosted agents and for agentless jobs. */
const defaultTimeoutMinutes = 60;

/** Runs one job to its end. */
export async function runJob(job: Job, context: JobContext): Promise<JobRecord> {
  const { services, stageScope } = context;
  const { log } = services;
  const started = Date.now();
  const record: JobRecord = {
    name: job.name,
    displayName: job.displayName,
    kind: job.kind,
    result: 'Skipped',
    message: '',
    durationMs: 0,
    steps: [],
    outputs: {},
    ...(job.kind === 'deployment'
      ? {
          environment: {
            name: job.environment.name,
            ...(job.environment.resourceName ? { resourceName: job.environment.resourceName } : {}),
          },
        }
      : {}),
  };

  const scope = stageScope.child();
  const dirs = jobDirectories(join(services.runFolder, 'agent'), context.jobNumber);
  const named = () => ({ ...context.named, variables: variablesOf(scope) });
  // The predefined variables first, so that the job's own can refer to them.
  for (const [name, value] of Object.entries(
    jobVariables({ name: job.name, displayName: job.displayName, id: randomUUID() }, dirs),
  )) {
    scope.set(name, value, { readonly: true });
  }
  log.jobStarted(job.name, job.displayName, jobDetail(job));
  let holds: boolean;
  try {
    context.declareVariables(job.variables, scope, named());
    holds = conditionHolds(
      job.condition,
      named(),
      statusFunctions({
        dependencies: context.dependencyResults,
        defaults: job.dependsOn,
        canceled: services.canceled(),
      }),
    );
  } catch (error) {
    // A runtime expression the compile-time checks could not judge (a value of the wrong type).
    return finish('Failed', (error as Error).message.split('\n')[0] ?? '');
  }
  if (!holds) {
    const why = `the condition '${job.condition ?? 'succeeded()'}' was false`;
    log.note(`Skipped: ${why}`);
    return finish('Skipped', why);
  }

  rmSync(dirs.temp, { recursive: true, force: true });
  for (const dir of [
    dirs.home,
    dirs.temp,
    dirs.sources,
    dirs.staging,
    dirs.binaries,
    dirs.testResults,
    dirs.tools,
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  let environmentConnection: ServiceConnection | undefined;
  if (job.kind === 'deployment') {
    const { environment } = job;
    for (const [name, value] of Object.entries(
      environmentVariables({
        name: environment.name,
        id: 1,
        ...(environment.resourceName ? { resourceName: environment.resourceName } : {}),
      }),
    )) {
      scope.set(name, value, { readonly: true });
    }
    if (environment.resourceName) {
      environmentConnection = services.environmentConnection(environment.name, environment.resourceName);
      if (!environmentConnection) {
        return finish(
          'Failed',
          `The environment '${environment.name}' has no Kubernetes resource '${environment.resourceName}' in the resources file: add it under environments.${environment.name}.`,
        );
      }
      log.note(
        `Environment ${environment.name}, resource ${environment.resourceName}: ${environmentConnection.url}${environmentConnection.data.namespace ? `, namespace ${environmentConnection.data.namespace}` : ''}`,
      );
    }
  }

  // The job's own cancellation: its timeout, or the run being canceled.
  const timeoutMinutes =
    job.timeoutInMinutes && job.timeoutInMinutes > 0 ? job.timeoutInMinutes : defaultTimeoutMinutes;
  const timeoutMs = timeoutMinutes * 60_000 * (job.kind === 'server' ? services.timeScale : 1);
  const jobCancel = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    jobCancel.abort();
  }, timeoutMs);
  const onRunCancel = () => jobCancel.abort();
  services.signal?.addEventListener('abort', onRunCancel, { once: true });
  const deadline = Date.now() + timeoutMs;

  const secrets = new Set<string>(scope.secretValues());
  const prependedPath: string[] = [];
  let status = 'Succeeded' as StepStatus;
  const stepEnvironment = (): StepEnvironment => ({
    scope,
    dirs,
    catalog: services.catalog,
    connection: (idOrName) => services.connection(idOrName),
    ...(environmentConnection ? { environmentConnection } : {}),
    artifacts: services.artifacts,
    approvals: services.approvals,
    machine: services.machine,
    machineEnv: services.machineEnv,
    prependedPath,
    repositories: services.repositories,
    timeScale: services.timeScale,
    jobMinutesLeft: Math.max(
      0,
      (deadline - Date.now()) / 60_000 / (job.kind === 'server' ? services.timeScale : 1),
    ),
    signal: jobCancel.signal,
    onLogLine: (line) => log.stepLine(line),
    secrets: () => [...secrets],
  });
  const outputPrefix =
    job.kind === 'deployment'
      ? job.environment.resourceName
        ? `Deploy_${job.environment.resourceName}.`
        : `${job.name}.`
      : '';

  // One repository goes to the sources folder; with several, each goes to a folder of its
  // own name under it. A `path` is taken from Agent.BuildDirectory, as the agent takes it.
  const checkouts = stepsOfJob(job).filter((step) => step.kind === 'checkout' && step.repository !== 'none');
  const checkoutFolder = (step: Extract<Step, { kind: 'checkout' }>): string => {
    if (step.path) return join(dirs.workspace, step.path);
    return checkouts.length > 1 ? join(dirs.sources, step.repository) : dirs.sources;
  };
  const ranMain = new Set<Step>();
  const runSteps = async (steps: readonly Step[], phase: TaskPhase = 'main') => {
    for (const step of steps) {
      const prefix = phase === 'preJob' ? 'Pre-job: ' : phase === 'postJob' ? 'Post-job: ' : '';
      const stepRecord: StepRecord = {
        ...(step.name ? { name: step.name } : {}),
        displayName: prefix + expandMacros(step.displayName, (name) => scope.value(name)),
        task: step.kind === 'checkout' ? 'checkout' : `${step.task}@${step.majorVersion}`,
        result: 'Skipped',
        message: '',
        durationMs: 0,
        logLines: [],
        summaries: [],
        startedAt: new Date().toISOString(),
      };
      record.steps.push(stepRecord);
      const canceled = jobCancel.signal.aborted;
      if (!step.enabled) {
        stepRecord.message = 'disabled (enabled: false)';
        continue;
      }
      // A post-job step runs whenever its main step ran, as the agent runs it.
      let holds: boolean;
      try {
        holds =
          phase === 'postJob' ||
          conditionHolds(
            step.condition,
            named(),
            statusFunctions({ dependencies: { job: status }, defaults: ['job'], canceled }),
          );
      } catch (error) {
        stepRecord.result = 'Failed';
        stepRecord.message = (error as Error).message.split('\n')[0] ?? '';
        log.note(`${stepRecord.displayName}: ${stepRecord.message}`);
        status = worse(status, 'Failed');
        continue;
      }
      if (!holds) {
        stepRecord.message = `the condition '${step.condition ?? 'succeeded()'}' was false`;
        continue;
      }
      log.stepStarted(stepRecord.displayName, stepRecord.task);
      const stepStarted = Date.now();
      const outcome = await runOneStep(step, stepEnvironment(), phase);
      if (phase === 'main') ranMain.add(step);
      stepRecord.durationMs = Date.now() - stepStarted;
      stepRecord.result = outcome.result;
      stepRecord.message = outcome.message;
      stepRecord.logLines = outcome.output.logLines;
      for (const secret of outcome.secrets) secrets.add(secret);
      await foldIn(step, outcome, stepRecord);
      log.stepFinished(stepRecord);
      const counted: StepStatus =
        outcome.result === 'Failed' && step.continueOnError ? 'SucceededWithIssues' : outcome.result;
      if (counted !== 'Skipped') status = worse(status, counted);
    }
  };

  const runOneStep = async (
    step: Step,
    environment: StepEnvironment,
    phase: TaskPhase,
  ): Promise<StepOutcome> => {
    const stepTimeout =
      step.timeoutInMinutes && step.timeoutInMinutes > 0
        ? step.timeoutInMinutes * 60_000 * (job.kind === 'server' ? services.timeScale : 1)
        : undefined;
    if (step.kind === 'checkout') return runCheckout(step, environment, checkoutFolder(step));
    const attempts = 1 + (step.retryCountOnTaskFailure ?? 0);
    let outcome = await runTaskStep(step, environment, stepTimeout, phase);
    for (
      let attempt = 2;
      attempt <= attempts && outcome.result === 'Failed' && !jobCancel.signal.aborted;
      attempt++
    ) {
      log.note(`Retrying (attempt ${attempt} of ${attempts}): ${outcome.message}`);
      outcome = await runTaskStep(step, environment, stepTimeout, phase);
    }
    return outcome;
  };

  /** What a step leaves for the rest of the job and the run. */
  const foldIn = async (step: Step, outcome: StepOutcome, stepRecord: StepRecord) => {
    const { output } = outcome;
    for (const variable of output.variables.values()) {
      if (variable.isOutput) {
        // The service names every step; an output of one the YAML left unnamed cannot be referenced.
        if (!step.name) continue;
        scope.set(`${step.name}.${variable.name}`, variable.value, {
          secret: variable.secret,
          readonly: true,
        });
        if (!variable.secret) record.outputs[`${outputPrefix}${step.name}.${variable.name}`] = variable.value;
      } else {
        scope.set(variable.name, variable.value, { secret: variable.secret, readonly: variable.isReadOnly });
      }
      if (variable.secret) secrets.add(variable.value);
    }
    for (const folder of output.prependPath) {
      const at = prependedPath.indexOf(folder);
      if (at >= 0) prependedPath.splice(at, 1);
      prependedPath.unshift(folder);
    }
    const summariesFolder = join(services.runFolder, 'summaries', `${context.jobNumber}-${job.name}`);
    for (const summary of output.summaries) {
      if (!existsSync(summary.path)) continue;
      mkdirSync(summariesFolder, { recursive: true });
      const file = join(summariesFolder, `${record.steps.length}-${basename(summary.path)}`);
      copyFileSync(summary.path, file);
      stepRecord.summaries.push({ name: summary.name, file });
    }
    for (const command of output.commands) {
      if (command.name === 'artifact.upload') {
        const name = command.properties.artifactname ?? command.properties.artifactName ?? 'drop';
        try {
          await services.artifacts.publish(name, command.data);
          log.note(`Uploaded artifact '${name}' from ${command.data}`);
        } catch (error) {
          stepRecord.result = worse(stepRecord.result, 'Failed');
          stepRecord.message = (error as Error).message;
        }
      }
    }
    for (const published of output.publishedTestResults) {
      const testRun = summarizeTestRun(published.properties, record.displayName);
      if (testRun) {
        services.onTestRun(testRun);
        log.note(
          `Test run '${testRun.title}': ${testRun.passed} passed, ${testRun.failed} failed, ${testRun.skipped} skipped`,
        );
      }
    }
  };

  // The agent runs every pre-job handler (KeyVaultSecrets' runAsPreJob) before the first
  // step, and every post-job handler, in reverse order, after the last.
  const allSteps = stepsOfJob(job);
  const withPhase = (phase: 'preJob' | 'postJob') =>
    allSteps.filter(
      (step): step is Extract<Step, { kind: 'task' }> =>
        step.kind === 'task' && hasPhase(step, services.catalog, phase),
    );
  try {
    await runSteps(withPhase('preJob'), 'preJob');
    if (job.kind === 'deployment') await runHooks(job);
    else await runSteps(job.steps);
    await runSteps(
      withPhase('postJob')
        .filter((step) => ranMain.has(step))
        .reverse(),
      'postJob',
    );
  } finally {
    clearTimeout(timer);
    services.signal?.removeEventListener('abort', onRunCancel);
    // Agent.TempDirectory does not outlive the job: what a step wrote there (an exported Secret) goes with it.
    rmSync(dirs.temp, { recursive: true, force: true });
  }
  if (timedOut) {
    return finish(
      'Canceled',
      `The job running on agent ${scope.value('Agent.Name') ?? 'local'} ran longer than the maximum time of ${timeoutMinutes} minutes.`,
    );
  }
  if (jobCancel.signal.aborted) return finish('Canceled', 'The run was canceled.');
  const failed = record.steps.find((step) => step.result === 'Failed');
  return finish(status, status === 'Failed' && failed ? `${failed.displayName}: ${failed.message}` : '');

  async function runHooks(deployment: DeploymentJob): Promise<void> {
    const { hooks } = deployment;
    for (const hook of [hooks.preDeploy, hooks.deploy, hooks.routeTraffic, hooks.postRouteTraffic]) {
      if (hook) await runSteps(hook);
    }
    const after = isSuccess(status) ? hooks.onSuccess : hooks.onFailure;
    if (after) await runSteps(after);
  }

  function finish(result: StepStatus, message: string): JobRecord {
    record.result = result;
    record.message = message;
    record.durationMs = Date.now() - started;
    if (result !== 'Skipped') log.jobFinished(record);
    return record;
  }
}

function variablesOf(scope: VariableScope): Record<string, string> {
  return Object.fromEntries(scope.all().map((variable) => [variable.name, variable.value]));
}

function jobDetail(job: Job): string {
  if (job.kind === 'server') return 'agentless (pool: server)';
  if (job.kind === 'deployment') {
    const resource = job.environment.resourceName ? `.${job.environment.resourceName}` : '';
    return `deployment to ${job.environment.name}${resource}`;
  }
  return job.pool.vmImage ?? job.pool.name ?? '';
}
