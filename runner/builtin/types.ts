/**
 * The contract between the run and the local implementations of Microsoft's built-in
 * tasks (CmdLine@2, Bash@3, NodeTool@0, Docker@2, ManualValidation@1, ...). A built-in
 * gets its inputs already expanded, writes its output as a task would (plain lines and
 * `##vso[...]` logging commands, which the run processes exactly as for any task), and
 * returns its result. It never reads the runner's state directly.
 */
import type { TaskDefinition } from '../model';

/** A step's result, in the agent's words. */
export type StepStatus = 'Succeeded' | 'SucceededWithIssues' | 'Failed' | 'Canceled' | 'Skipped';

/** What a built-in returns; `message` is the one line shown with a failure. */
export interface BuiltinResult {
  readonly status: StepStatus;
  readonly message?: string;
}

/** A service connection as the agent holds it (the runner's resources file declares them). */
export interface ServiceConnection {
  readonly id: string;
  readonly name: string;
  /** `azurerm`, `dockerregistry`, `kubernetes`, ... */
  readonly type: string;
  readonly url: string;
  readonly scheme: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly data: Readonly<Record<string, string>>;
}

/** Which run's artifacts: this run's, or the run a pipeline resource points at. */
export type ArtifactSource =
  | { readonly kind: 'current' }
  | { readonly kind: 'pipeline'; readonly definition: string; readonly runId?: string };

/** The pipeline artifacts of this run and of the runs its pipeline resources name. */
export interface ArtifactStore {
  /** Copies a file or folder in as the artifact `name` of this run; an existing name is an error. */
  publish(name: string, sourcePath: string): Promise<void>;
  /** The artifact names a run holds, sorted. */
  list(source: ArtifactSource): Promise<readonly string[]>;
  /**
   * Copies the files of artifact `name` that match `patterns` (minimatch, relative to the
   * artifact's root) into `targetPath`; returns the files written. An unknown name is an error.
   */
  download(
    source: ArtifactSource,
    name: string,
    patterns: readonly string[],
    targetPath: string,
  ): Promise<readonly string[]>;
}

/** A person's answer to a manual validation, however it was given. */
export interface ApprovalAnswer {
  readonly decision: 'approved' | 'rejected';
  /** Who answered: a user name, or how the runner was told (`--approve`). */
  readonly by: string;
  readonly comment?: string;
}

/** Asks for approval: in a terminal, or answered in advance by `--approve`/`--reject`. */
export interface ApprovalSource {
  /** Resolves with an answer, or never (until `signal` aborts) when no one will answer. */
  ask(
    request: {
      readonly instructions: string;
      readonly approvers: string;
      readonly notifyUsers: string;
      /** When the validation times out, in real time (already scaled). */
      readonly deadline: Date;
    },
    signal: AbortSignal,
  ): Promise<ApprovalAnswer>;
}

/** The folders of the job the step runs in, by the variable that names them. */
export interface JobDirectories {
  /** Pipeline.Workspace (Agent.BuildDirectory). */
  readonly workspace: string;
  /** Build.SourcesDirectory. */
  readonly sources: string;
  /** Build.ArtifactStagingDirectory. */
  readonly staging: string;
  /** Build.BinariesDirectory. */
  readonly binaries: string;
  /** Common.TestResultsDirectory. */
  readonly testResults: string;
  /** Agent.TempDirectory: emptied before every job. */
  readonly temp: string;
  /** Agent.ToolsDirectory. */
  readonly tools: string;
}

/** What this machine offers the tools a built-in starts, from the runner's resources file. */
export interface MachineSettings {
  /** A PEM bundle to trust besides the system's (the emulated cloud's CA), or undefined. */
  readonly caFile?: string;
  /** Host names that resolve only through the resources file (`host` → IPv4 address). */
  readonly hosts: Readonly<Record<string, string>>;
  /** Node.js installations the tool installers may select from (version → bin folder). */
  readonly nodeInstallations: readonly { readonly version: string; readonly binFolder: string }[];
}

/** Everything a built-in may use while it runs one step. */
export interface BuiltinContext {
  /** Inputs by their task.json names (aliases resolved), macros expanded, defaults applied. */
  readonly inputs: Readonly<Record<string, string>>;
  /** A job variable's value (secret ones included), or undefined. Names ignore case. */
  variable(name: string): string | undefined;
  readonly dirs: JobDirectories;
  /** System.DefaultWorkingDirectory. */
  readonly workingDirectory: string;
  /**
   * The environment for processes the step starts: the job's public variables as the agent
   * maps them, the step's `env:`, and PATH with every `task.prependpath` so far.
   */
  readonly env: Readonly<Record<string, string>>;
  /** A service connection by the id or name an input holds, or undefined. */
  connection(idOrName: string): ServiceConnection | undefined;
  /** One line of the step's output, processed as the agent processes a task's output. */
  output(line: string): void;
  readonly artifacts: ArtifactStore;
  readonly approvals: ApprovalSource;
  readonly machine: MachineSettings;
  /** Real time per pipeline time: 0.001 makes a 60-minute timeout last 3.6 s. */
  readonly timeScale: number;
  /**
   * The step's timeout in pipeline minutes, not yet scaled: its `timeoutInMinutes`, else its
   * job's; undefined when neither sets one. ManualValidation@1 waits this long, then lets
   * `onTimeout` decide. Optional, so a run that does not set it still compiles.
   */
  readonly timeoutInMinutes?: number;
  /**
   * Aborted when the step is cancelled or times out. On a timeout the reason should be a
   * DOMException named `TimeoutError` (what `AbortSignal.timeout` gives), so that a built-in
   * with its own timeout behaviour (ManualValidation@1's `onTimeout`) can tell the two apart.
   */
  readonly signal: AbortSignal;
}

/** A built-in task: what the checks read, and how it runs. */
export interface BuiltinTask {
  readonly definition: TaskDefinition;
  run(context: BuiltinContext): Promise<BuiltinResult>;
}
