/**
 * The compiled pipeline: what `compilePipeline` hands to the run, after every template,
 * parameter and compile-time expression is resolved and every shorthand is spelt out, as
 * the Azure Pipelines service holds a pipeline once it has loaded the YAML. Runtime
 * expressions (`$[ ]`), conditions and macros (`$( )`) are still text here: they are
 * evaluated when the stage, job or step starts.
 */

/** A place in a YAML file; every compile-time and check error names one. */
export interface SourceLocation {
  /** The file as the user knows it: relative to the pipeline's repository, or absolute. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/** A variable declared in YAML (`variables:` as a mapping or a list), at any level. */
export type VariableDeclaration =
  | {
      readonly kind: 'value';
      readonly name: string;
      /** May hold a runtime expression (`$[ ... ]`) or macros, evaluated when its scope starts. */
      readonly value: string;
      readonly readonly: boolean;
      readonly location: SourceLocation;
    }
  | { readonly kind: 'group'; readonly name: string; readonly location: SourceLocation };

/** A repository the pipeline names in `resources.repositories`, or `self`. */
export interface RepositoryResource {
  readonly alias: string;
  readonly type: string;
  /** `project/repository` for Azure Repos, `owner/repository` for GitHub. */
  readonly name: string;
  readonly ref?: string;
  readonly location: SourceLocation;
}

/** A pipeline resource (`resources.pipelines`): another pipeline's run whose artifacts this one uses. */
export interface PipelineResource {
  readonly alias: string;
  /** The other pipeline's name in Azure Pipelines. */
  readonly source: string;
  readonly project?: string;
  /** Branch filters of its trigger; undefined when the resource has no trigger. */
  readonly trigger?: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly location: SourceLocation;
}

/** The pipeline as the run executes it. */
export interface CompiledPipeline {
  /** The pipeline file, as given to the runner. */
  readonly file: string;
  /** `name:`, the run number format; undefined for the default. */
  readonly name?: string;
  /** Runtime parameters after binding (type-checked, defaults applied). */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly variables: readonly VariableDeclaration[];
  readonly repositories: readonly RepositoryResource[];
  readonly pipelines: readonly PipelineResource[];
  /** `lockBehavior` at the pipeline level. */
  readonly lockBehavior?: 'sequential' | 'runLatest';
  readonly stages: readonly Stage[];
  /** `trigger:` (CI), recorded only; undefined when the YAML has none (the service's default applies). */
  readonly trigger?: BranchTrigger;
  /** `pr:`, recorded only; undefined when the YAML has none. */
  readonly pr?: BranchTrigger;
  /** `schedules:`, recorded only. */
  readonly schedules?: readonly ScheduleTrigger[];
}

/** A CI or PR trigger as written: `none` disables it; branch and path filters as given. */
export interface BranchTrigger {
  readonly enabled: boolean;
  readonly branches: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly paths: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly location: SourceLocation;
}

/** One of `schedules:`. */
export interface ScheduleTrigger {
  readonly cron: string;
  readonly displayName?: string;
  readonly branches: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly always: boolean;
  readonly location: SourceLocation;
}

/** A stage; a pipeline written with only `jobs:` or `steps:` gets one, named `__default`. */
export interface Stage {
  readonly name: string;
  readonly displayName: string;
  /** The stages this one waits for. An omitted `dependsOn` already means the stage before it. */
  readonly dependsOn: readonly string[];
  /** The condition text; undefined means the default, `succeeded()`. */
  readonly condition?: string;
  readonly variables: readonly VariableDeclaration[];
  readonly lockBehavior?: 'sequential' | 'runLatest';
  readonly jobs: readonly Job[];
  readonly location: SourceLocation;
}

/** What every kind of job has. */
interface JobBase {
  readonly name: string;
  readonly displayName: string;
  /** The jobs of the same stage this one waits for. Jobs run in parallel unless told otherwise. */
  readonly dependsOn: readonly string[];
  readonly condition?: string;
  readonly variables: readonly VariableDeclaration[];
  /** Minutes; undefined means the service's default (60 for agent jobs on hosted pools and for agentless jobs). */
  readonly timeoutInMinutes?: number;
  readonly cancelTimeoutInMinutes?: number;
  readonly continueOnError: boolean;
  readonly location: SourceLocation;
}

/** A job on an agent pool. */
export interface AgentJob extends JobBase {
  readonly kind: 'job';
  readonly pool: AgentPool;
  readonly steps: readonly Step[];
  readonly workspaceClean?: 'outputs' | 'resources' | 'all';
}

/** An agentless job (`pool: server`): only server tasks such as ManualValidation@1. */
export interface ServerJob extends JobBase {
  readonly kind: 'server';
  readonly steps: readonly TaskStep[];
}

/** A deployment job on an environment, with the runOnce strategy's lifecycle hooks. */
export interface DeploymentJob extends JobBase {
  readonly kind: 'deployment';
  readonly pool: AgentPool;
  readonly environment: EnvironmentReference;
  /** runOnce's hooks, in the order the service runs them; a hook not written is absent. */
  readonly hooks: DeploymentHooks;
}

/** The runOnce strategy's lifecycle hooks. Other strategies are refused at compile time. */
export interface DeploymentHooks {
  readonly preDeploy?: readonly Step[];
  readonly deploy: readonly Step[];
  readonly routeTraffic?: readonly Step[];
  readonly postRouteTraffic?: readonly Step[];
  readonly onFailure?: readonly Step[];
  readonly onSuccess?: readonly Step[];
}

export type Job = AgentJob | ServerJob | DeploymentJob;

/** `pool:` of an agent job: a hosted image or a named pool. Only recorded: the runner is the agent. */
export interface AgentPool {
  readonly vmImage?: string;
  readonly name?: string;
  readonly demands?: readonly string[];
}

/** `environment:` of a deployment job. */
export interface EnvironmentReference {
  readonly name: string;
  readonly resourceName?: string;
  readonly resourceType?: 'Kubernetes' | 'VirtualMachine';
  readonly location: SourceLocation;
}

/** What every step has. */
interface StepBase {
  /** `name:`, the prefix of its output variables; undefined when the YAML gave none. */
  readonly name?: string;
  readonly displayName: string;
  readonly condition?: string;
  readonly continueOnError: boolean;
  readonly enabled: boolean;
  readonly timeoutInMinutes?: number;
  readonly retryCountOnTaskFailure?: number;
  /** `env:`: the only way a secret variable reaches a script's environment. Values may hold macros. */
  readonly env: Readonly<Record<string, string>>;
  readonly location: SourceLocation;
}

/**
 * A task step. The shorthands are spelt out as the service does it: `script` is
 * CmdLine@2, `bash` Bash@3, `pwsh` PowerShell@2 with pwsh, `publish`
 * PublishPipelineArtifact@1 and `download` DownloadPipelineArtifact@2.
 */
export interface TaskStep extends StepBase {
  readonly kind: 'task';
  /** The task's name as written (`AksDeploy`, or a full `publisher.extension.Task.Task` name). */
  readonly task: string;
  readonly majorVersion: number;
  /** Inputs as strings (YAML booleans and numbers in their text form); values may hold macros. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Where each input was written, by input name, for errors about one input. */
  readonly inputLocations: Readonly<Record<string, SourceLocation>>;
  /** The shorthand it was written as, for messages (`script`, `bash`, `download`...). */
  readonly shorthand?: 'script' | 'bash' | 'pwsh' | 'powershell' | 'publish' | 'download';
}

/** `checkout:` a repository into the job's sources folder, or `none`. */
export interface CheckoutStep extends StepBase {
  readonly kind: 'checkout';
  /** `self`, `none`, or an alias from `resources.repositories`. */
  readonly repository: string;
  readonly clean?: boolean;
  readonly fetchDepth?: number;
  /** Where under Pipeline.Workspace it goes; the default is `s`. */
  readonly path?: string;
}

export type Step = TaskStep | CheckoutStep;

/** Every step of a job: a deployment job's runOnce hooks in the order they run. */
export function stepsOfJob(job: Job): readonly Step[] {
  if (job.kind !== 'deployment') return job.steps;
  const { hooks } = job;
  return [
    hooks.preDeploy,
    hooks.deploy,
    hooks.routeTraffic,
    hooks.postRouteTraffic,
    hooks.onFailure,
    hooks.onSuccess,
  ]
    .filter((hook): hook is readonly Step[] => hook !== undefined)
    .flat();
}

/** A problem found while compiling or checking a pipeline, at its place in a file. */
export interface PipelineProblem {
  readonly location?: SourceLocation;
  /** What is wrong and what to change, in one line. */
  readonly message: string;
}

/** The service's way of writing a place: `/templates/cd.yml (Line: 12, Col: 5)`. */
export function describeLocation(location: SourceLocation): string {
  return `${location.file} (Line: ${location.line}, Col: ${location.column})`;
}

/** One or more problems that stop a pipeline before it runs, each on its own line. */
export class PipelineError extends Error {
  override name = 'PipelineError';
  readonly problems: readonly PipelineProblem[];

  constructor(problems: readonly PipelineProblem[]) {
    super(
      problems
        .map((problem) =>
          problem.location ? `${describeLocation(problem.location)}: ${problem.message}` : problem.message,
        )
        .join('\n'),
    );
    this.problems = problems;
  }
}

/** An input of a task, as task.json declares it (the parts the checks and the run need). */
export interface TaskInputDefinition {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** `string`, `boolean`, `pickList`, `multiLine`, `filePath`, `connectedService:AzureRM`... */
  readonly type: string;
  readonly required?: boolean;
  readonly defaultValue?: string;
  /** pickList options (value → label). */
  readonly options?: Readonly<Record<string, string>>;
  /** pickList `properties.EditableOptions`: when true any value is accepted. */
  readonly editableOptions?: boolean;
  /** task.json's `visibleRule`, e.g. `command = build || command = buildAndPush`. */
  readonly visibleRule?: string;
}

/** A task the runner can run: one of this extension's (from the vsix) or a built-in. */
export interface TaskDefinition {
  readonly name: string;
  readonly id?: string;
  readonly majorVersion: number;
  readonly inputs: readonly TaskInputDefinition[];
  /** Output variables the task declares (task.json `outputVariables`). */
  readonly outputVariables: readonly string[];
  /** task.json's `instanceNameFormat` (`Deploy $(manifests)`): a step's displayName when it gives none. */
  readonly instanceNameFormat?: string;
  /** `agent` tasks run in agent and deployment jobs; `server` tasks only in agentless jobs. */
  readonly runsOn: readonly ('agent' | 'server')[];
}

/** Finds task definitions by the name a step writes and its major version. */
export interface TaskCatalog {
  find(name: string, majorVersion: number): TaskDefinition | undefined;
  /** Every task's `Name@Major`, for "did you mean". */
  names(): readonly string[];
}
