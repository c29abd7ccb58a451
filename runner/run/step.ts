/**
 * One step, run as the agent runs it: its inputs and `env:` expanded when it starts, then
 * a checkout, one of this extension's tasks (the packaged bundle, in a process with the
 * agent's environment) or a built-in; its output processed as the agent processes it
 * (logging commands, masking); and what it left for later steps collected.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  agentMasksParameter,
  buildEnvironment,
  environmentName,
  type Endpoint,
  type RunDirectories,
} from '../agent/environment';
import { OutputProcessor, type ProcessedOutput, type TaskStatus } from '../agent/output-processor';
import { runProcess } from '../agent/processes';
import type {
  ApprovalSource,
  ArtifactStore,
  BuiltinResult,
  JobDirectories,
  MachineSettings,
  ServiceConnection,
  StepStatus,
} from '../builtin/types';
import type { CheckoutStep, TaskDefinition, TaskStep } from '../model';
import type { ExtensionTask, RunnerTaskCatalog } from './catalog';
import { expandMacros, type VariableScope } from './variables';

/** What a step runs with, from its job. */
export interface StepEnvironment {
  readonly scope: VariableScope;
  readonly dirs: RunDirectories & JobDirectories;
  readonly catalog: RunnerTaskCatalog;
  /** Connections by name or id. */
  connection(idOrName: string): ServiceConnection | undefined;
  /** The connection a deployment job's environment resource passes to Kubernetes inputs left empty. */
  readonly environmentConnection?: ServiceConnection;
  readonly artifacts: ArtifactStore;
  readonly approvals: ApprovalSource;
  readonly machine: MachineSettings;
  /** Added to every process's environment (the resources file's machine.env). */
  readonly machineEnv: Readonly<Record<string, string>>;
  /** Folders `task.prependpath` added so far, most recent first. */
  readonly prependedPath: string[];
  /** Repository alias → local folder, for checkout. */
  readonly repositories: Readonly<Record<string, string>>;
  readonly timeScale: number;
  /** Pipeline minutes left of the job's timeout: a step that sets no timeout has these. */
  readonly jobMinutesLeft: number;
  readonly signal: AbortSignal;
  /** Each masked log line as it is written. */
  readonly onLogLine: (line: string) => void;
  /** Every secret the job knows so far; the agent masks each from the start of a step. */
  readonly secrets: () => readonly string[];
}

/** What one step did, before the job folds it in. */
export interface StepOutcome {
  readonly result: StepStatus;
  readonly message: string;
  readonly output: ProcessedOutput;
  /** The secrets the step registered (its own and those it was given). */
  readonly secrets: readonly string[];
}

/** Runs a checkout step: the repository's files copied into the sources folder. */
export async function runCheckout(
  step: CheckoutStep,
  env: StepEnvironment,
  target: string,
): Promise<StepOutcome> {
  const processor = newProcessor(env, []);
  if (step.repository === 'none') return done(processor, 'Succeeded', '');
  const folder = env.repositories[step.repository];
  if (!folder) {
    return done(
      processor,
      'Failed',
      `The repository '${step.repository}' has no local folder: map it under repositories in the resources file.`,
    );
  }
  if (step.clean !== false) rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const files = repositoryFiles(folder);
  for (const file of files) {
    const destination = join(target, file);
    mkdirSync(join(destination, '..'), { recursive: true });
    cpSync(join(folder, file), destination);
  }
  processor.line(`Syncing repository: ${step.repository} (${folder})`);
  processor.line(`Copied ${files.length} files into ${target}`);
  return done(processor, 'Succeeded', '');
}

/**
 * The files a checkout brings: in a git work tree, the tracked files and the untracked ones
 * git does not ignore (what a commit of the folder would hold); otherwise every file but
 * `.git` and `node_modules`.
 */
function repositoryFiles(folder: string): string[] {
  try {
    const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: folder,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
    return listed.split('\0').filter((file) => file && existsSync(join(folder, file)));
  } catch {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        if (entry.name === '.git' || entry.name === 'node_modules') return [];
        const path = join(dir, entry.name);
        return entry.isDirectory() ? walk(path) : [relative(folder, path)];
      });
    return walk(folder);
  }
}

/** Which of a task's handlers runs: its main execution, or its pre-job or post-job one. */
export type TaskPhase = 'main' | 'preJob' | 'postJob';

/** Whether a step's task declares a handler for the pre-job or post-job phase. */
export function hasPhase(step: TaskStep, catalog: RunnerTaskCatalog, phase: 'preJob' | 'postJob'): boolean {
  const runnable = catalog.runnable(step.task, step.majorVersion);
  if (runnable?.kind !== 'extension') return false;
  return Object.keys(phase === 'preJob' ? runnable.preJobHandlers : runnable.postJobHandlers).length > 0;
}

/** Runs a task step (an extension task or a built-in), inputs expanded now. */
export async function runTaskStep(
  step: TaskStep,
  env: StepEnvironment,
  timeoutMs: number | undefined,
  phase: TaskPhase = 'main',
): Promise<StepOutcome> {
  const runnable = env.catalog.runnable(step.task, step.majorVersion);
  const lookup = (name: string) => env.scope.value(name);
  const stepEnv = Object.fromEntries(
    Object.entries(step.env).map(([name, value]) => [name, expandMacros(value, lookup)]),
  );
  if (!runnable) {
    const processor = newProcessor(env, Object.values(stepEnv));
    return done(
      processor,
      'Failed',
      `The task ${step.task}@${step.majorVersion} is not in the runner's catalog.`,
    );
  }
  const definition = runnable.kind === 'extension' ? runnable.definition : runnable.task.definition;
  const inputs = taskInputs(step, definition, lookup, env);
  if (runnable.kind === 'extension')
    return runExtensionTask(runnable, phase, inputs, stepEnv, env, timeoutMs);

  const processor = newProcessor(env, Object.values(stepEnv));
  const controller = new AbortController();
  const abort = () => controller.abort(env.signal.reason);
  env.signal.addEventListener('abort', abort, { once: true });
  // A timeout aborts with a TimeoutError, so a built-in can tell it from a cancel.
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new DOMException('The step timed out.', 'TimeoutError')),
          timeoutMs,
        );
  let result: BuiltinResult;
  try {
    result = await runnable.task.run({
      inputs,
      variable: (name) => env.scope.value(name),
      dirs: env.dirs,
      workingDirectory: env.dirs.sources,
      env: processEnvironment(env, stepEnv),
      connection: (idOrName) => env.connection(idOrName),
      output: (line) => processor.line(line),
      artifacts: env.artifacts,
      approvals: env.approvals,
      machine: env.machine,
      timeScale: env.timeScale,
      timeoutInMinutes: step.timeoutInMinutes ?? env.jobMinutesLeft,
      signal: controller.signal,
    });
  } catch (error) {
    result = { status: 'Failed', message: (error as Error).message.split('\n')[0] ?? '' };
  } finally {
    clearTimeout(timer);
    env.signal.removeEventListener('abort', abort);
  }
  if (controller.signal.aborted && result.status !== 'Succeeded') {
    result = env.signal.aborted
      ? { status: 'Canceled', message: 'The step was canceled.' }
      : { status: 'Failed', message: `The step timed out after ${formatMinutes(timeoutMs)}.` };
  }
  const status = mergeStatus(result.status, processor.finalStatus(0));
  return done(
    processor,
    status,
    processor.masker.mask(result.message ?? processor.output.result?.message ?? ''),
  );
}

/** The process environment for a built-in's children: public variables, machine settings, `env:`, PATH. */
function processEnvironment(
  env: StepEnvironment,
  stepEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  const base: Record<string, string> = {
    PATH: [...env.prependedPath, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    HOME: process.env.HOME ?? env.dirs.home,
    LANG: process.env.LANG ?? 'C.UTF-8',
    TF_BUILD: 'True',
  };
  for (const variable of env.scope.all()) {
    if (!variable.secret) base[environmentName(variable.name)] = variable.value;
  }
  const merged = { ...base, ...env.machineEnv, ...stepEnv };
  // A machine setting may extend PATH; the prepended folders still come first.
  merged.PATH = [...env.prependedPath, ...(env.machineEnv.PATH ?? base.PATH!).split(':')]
    .filter((part, index, all) => part && all.indexOf(part) === index)
    .join(':');
  return merged;
}

/**
 * The inputs the task gets, as the agent builds them: every declared input (aliases
 * resolved to the declared name), defaults for those not given, macros expanded, and
 * service connection names replaced by their ids. A Kubernetes connection input left
 * empty in a deployment job on an environment's Kubernetes resource gets that resource's
 * connection, as the service fills it.
 */
function taskInputs(
  step: TaskStep,
  definition: TaskDefinition,
  lookup: (name: string) => string | undefined,
  env: StepEnvironment,
): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const input of definition.inputs) {
    const given = [input.name, ...(input.aliases ?? [])]
      .map(
        (name) => Object.entries(step.inputs).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1],
      )
      .find((value) => value !== undefined);
    let value = expandMacros(given ?? input.defaultValue ?? '', lookup);
    if (input.type.startsWith('connectedService:') && value) {
      value = value
        .split(',')
        .map((part) => env.connection(part.trim())?.id ?? part.trim())
        .join(',');
    }
    if (/^connectedService:kubernetes$/i.test(input.type) && !value && env.environmentConnection) {
      value = env.environmentConnection.id;
    }
    inputs[input.name] = value;
  }
  return inputs;
}

/** Runs one of this extension's tasks from its packaged bundle, with the agent's environment. */
async function runExtensionTask(
  task: ExtensionTask,
  phase: TaskPhase,
  inputs: Readonly<Record<string, string>>,
  stepEnv: Readonly<Record<string, string>>,
  env: StepEnvironment,
  timeoutMs: number | undefined,
): Promise<StepOutcome> {
  const endpoints: Record<string, Endpoint> = {
    SYSTEMVSSCONNECTION: {
      url: env.scope.value('System.CollectionUri') ?? '',
      scheme: 'OAuth',
      parameters: { AccessToken: env.scope.value('System.AccessToken') ?? '' },
    },
  };
  for (const input of task.definition.inputs) {
    if (!input.type.startsWith('connectedService:')) continue;
    for (const id of (inputs[input.name] ?? '').split(',').filter(Boolean)) {
      const connection = env.connection(id);
      if (connection) {
        endpoints[connection.id] = {
          url: connection.url,
          scheme: connection.scheme,
          parameters: connection.parameters,
          data: connection.data,
        };
      }
    }
  }
  const variables = Object.fromEntries(
    env.scope
      .all()
      .filter((variable) => !variable.secret)
      .map((variable) => [variable.name, variable.value]),
  );
  const secretVariables = Object.fromEntries(
    env.scope
      .all()
      .filter((variable) => variable.secret)
      .map((variable) => [variable.name, variable.value]),
  );
  const environment = buildEnvironment({
    dirs: env.dirs,
    inputs,
    endpoints,
    variables,
    secretVariables,
    extra: { ...env.machineEnv, ...stepEnv },
  });
  environment.PATH = [...env.prependedPath, environment.PATH].join(':');
  const endpointSecrets = Object.values(endpoints).flatMap((endpoint) =>
    Object.entries(endpoint.parameters ?? {})
      .filter(([key]) => agentMasksParameter(key))
      .map(([, value]) => value),
  );
  const processor = new OutputProcessor({
    restrictions: task.restrictions
      ? [
          {
            restrictedCommands: /^restricted$/i.test(task.restrictions.commands?.mode ?? ''),
            ...(task.restrictions.settableVariables?.allowed
              ? { settableVariables: task.restrictions.settableVariables.allowed }
              : {}),
          },
        ]
      : [],
    variables,
    initialSecrets: [...env.secrets(), ...endpointSecrets],
    readOnlyVariables: Object.keys(variables).filter((name) => /^(system|build|agent)\./i.test(name)),
    secretVariableNames: Object.keys(secretVariables),
    onLogLine: env.onLogLine,
  });
  const handlers =
    phase === 'main' ? task.handlers : phase === 'preJob' ? task.preJobHandlers : task.postJobHandlers;
  const node = nodeFor(handlers, env.machine);
  if (!node) {
    return done(
      processor,
      'Failed',
      `${task.definition.name} needs one of the handlers ${Object.keys(handlers).join(', ')}, and this machine has no Node.js for them.`,
    );
  }
  mkdirSync(env.dirs.sources, { recursive: true });
  const exit = await runProcess({
    command: node.path,
    args: [node.entry],
    cwd: env.dirs.sources,
    env: environment,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    cancel: env.signal,
    onLine: (line, stream) => processor.line(line, stream),
  });
  if (exit.canceled) return done(processor, 'Canceled', 'The step was canceled.');
  if (exit.timedOut)
    return done(processor, 'Failed', `The step timed out after ${formatMinutes(timeoutMs)}.`);
  const status = processor.finalStatus(exit.exitCode);
  const message =
    processor.output.result?.message ||
    processor.output.errors.at(-1)?.message ||
    (exit.exitCode !== 0 ? `The task exited with code ${exit.exitCode}.` : '');
  return done(processor, toStepStatus(status), message);
}

/** The highest Node handler the task declares that this machine has, as the agent picks it. */
function nodeFor(
  handlers: Readonly<Record<string, string>>,
  machine: MachineSettings,
): { path: string; entry: string } | undefined {
  const known: [string, string][] = [
    ['Node24', '24.'],
    ['Node20_1', '20.'],
  ];
  for (const [handler, major] of known) {
    const entry = handlers[handler];
    const installation = machine.nodeInstallations.find((each) => each.version.startsWith(major));
    if (entry && installation) return { path: join(installation.binFolder, 'node'), entry };
  }
  return undefined;
}

function newProcessor(env: StepEnvironment, extraSecrets: readonly string[]): OutputProcessor {
  const variables = Object.fromEntries(env.scope.all().map((variable) => [variable.name, variable.value]));
  return new OutputProcessor({
    restrictions: [],
    variables,
    initialSecrets: [...env.secrets(), ...extraSecrets.filter((value) => env.secrets().includes(value))],
    readOnlyVariables: Object.keys(variables).filter((name) => /^(system|build|agent)\./i.test(name)),
    secretVariableNames: env.scope
      .all()
      .filter((variable) => variable.secret)
      .map((variable) => variable.name),
    onLogLine: env.onLogLine,
  });
}

function done(processor: OutputProcessor, result: StepStatus, message: string): StepOutcome {
  return { result, message, output: processor.output, secrets: processor.masker.registered() };
}

function toStepStatus(status: TaskStatus): StepStatus {
  if (status === 'Cancelled' || status === 'Abandoned') return 'Canceled';
  return status;
}

const stepSeverity: Record<StepStatus, number> = {
  Succeeded: 0,
  SucceededWithIssues: 1,
  Skipped: 2,
  Failed: 3,
  Canceled: 4,
};

function mergeStatus(a: StepStatus, b: TaskStatus): StepStatus {
  const other = toStepStatus(b);
  return stepSeverity[other] > stepSeverity[a] ? other : a;
}

function formatMinutes(ms: number | undefined): string {
  if (ms === undefined) return 'its timeout';
  const minutes = ms / 60_000;
  return minutes >= 1 ? `${Number(minutes.toFixed(2))} minutes` : `${Math.round(ms / 1000)} s`;
}

/** A summary file's name as the run keeps it. */
export function summaryName(path: string): string {
  return basename(path);
}
