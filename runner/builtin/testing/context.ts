/**
 * A real BuiltinContext for the built-ins' tests: real folders under a fresh temporary
 * root, inputs with the task.json defaults applied and macros expanded as the run does,
 * an artifact store over folders, and an approval source the test answers. The run has its
 * own implementation; this one follows the same contract, so the tests run real files and
 * real processes without the run.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDefinition } from '../../model';
import type {
  ApprovalAnswer,
  ApprovalSource,
  BuiltinContext,
  JobDirectories,
  MachineSettings,
  ServiceConnection,
} from '../types';
import { FolderArtifactStore } from './folder-artifact-store';

/** What a test may set; everything else gets a working default. */
export interface TestContextOptions {
  readonly definition?: TaskDefinition;
  readonly inputs?: Readonly<Record<string, string>>;
  readonly variables?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly connections?: readonly ServiceConnection[];
  readonly machine?: Partial<MachineSettings>;
  readonly timeScale?: number;
  readonly timeoutInMinutes?: number;
  /** Answers ManualValidation; by default nobody answers. */
  readonly answer?: (request: Parameters<ApprovalSource['ask']>[0]) => Promise<ApprovalAnswer> | undefined;
  /** Shares folders (and the artifact store) with an earlier context, as two steps of one job do. */
  readonly sameJobAs?: TestContext;
}

/** A context and what the test reads back. */
export interface TestContext {
  readonly context: BuiltinContext;
  readonly dirs: JobDirectories;
  /** System.DefaultWorkingDirectory (the sources folder). */
  readonly workingDirectory: string;
  /** Every line the step wrote, in order. */
  readonly lines: string[];
  readonly artifacts: FolderArtifactStore;
  /** The approval requests the step made. */
  readonly approvalRequests: Parameters<ApprovalSource['ask']>[0][];
  /** Cancels the step. */
  abort(reason?: unknown): void;
  /** Deletes every folder the context made (unless it shares another's). */
  dispose(): void;
}

/** Builds a context for one step in fresh folders. */
export function createTestContext(options: TestContextOptions = {}): TestContext {
  const shared = options.sameJobAs;
  const root = shared ? '' : mkdtempSync(join(tmpdir(), 'builtin-'));
  const dirs: JobDirectories = shared?.dirs ?? {
    workspace: join(root, 'w'),
    sources: join(root, 'w', 's'),
    staging: join(root, 'w', 'a'),
    binaries: join(root, 'w', 'b'),
    testResults: join(root, 'w', 'TestResults'),
    temp: join(root, 'temp'),
    tools: join(root, 'tools'),
  };
  if (!shared) for (const folder of Object.values(dirs)) mkdirSync(folder, { recursive: true });
  const artifacts = shared?.artifacts ?? new FolderArtifactStore(join(root, 'artifacts'));

  const variables = new Map<string, string>();
  const setVariable = (name: string, value: string) => variables.set(name.toLowerCase(), value);
  for (const [name, value] of Object.entries({
    'System.DefaultWorkingDirectory': dirs.sources,
    'Build.SourcesDirectory': dirs.sources,
    'Build.ArtifactStagingDirectory': dirs.staging,
    'Build.BinariesDirectory': dirs.binaries,
    'Common.TestResultsDirectory': dirs.testResults,
    'Pipeline.Workspace': dirs.workspace,
    'Agent.BuildDirectory': dirs.workspace,
    'Agent.TempDirectory': dirs.temp,
    'Agent.ToolsDirectory': dirs.tools,
    'Build.BuildId': '42',
    'Build.BuildNumber': '20261206.1',
    'System.HostType': 'build',
    ...options.variables,
  })) {
    setVariable(name, value);
  }
  const expand = (text: string) =>
    text.replace(/\$\(([\w.]+)\)/g, (macro, name: string) => variables.get(name.toLowerCase()) ?? macro);

  const inputs = options.definition
    ? inputsWithDefaults(options.definition, options.inputs ?? {}, expand)
    : { ...options.inputs };
  const lines: string[] = [];
  const approvalRequests: Parameters<ApprovalSource['ask']>[0][] = [];
  const controller = new AbortController();
  const connections = options.connections ?? [];

  const context: BuiltinContext = {
    inputs,
    variable: (name) => variables.get(name.toLowerCase()),
    dirs,
    workingDirectory: dirs.sources,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      ...options.env,
    },
    connection: (idOrName) => connections.find((c) => c.id === idOrName || c.name === idOrName),
    output: (line) => lines.push(line),
    artifacts,
    approvals: {
      ask: (request, signal) => {
        approvalRequests.push(request);
        const answer = options.answer?.(request);
        return (
          answer ??
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          })
        );
      },
    },
    machine: { hosts: {}, nodeInstallations: [], ...options.machine },
    timeScale: options.timeScale ?? 1,
    timeoutInMinutes: options.timeoutInMinutes,
    signal: controller.signal,
  };
  return {
    context,
    dirs,
    workingDirectory: dirs.sources,
    lines,
    artifacts,
    approvalRequests,
    abort: (reason) => controller.abort(reason),
    dispose: () => {
      if (root) rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The inputs as the run hands them over: aliases resolved to the task.json name, defaults
 * applied to inputs not given, macros expanded.
 */
export function inputsWithDefaults(
  definition: TaskDefinition,
  given: Readonly<Record<string, string>>,
  expand: (text: string) => string = (text) => text,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const input of definition.inputs) {
    const key = [input.name, ...(input.aliases ?? [])].find((name) => given[name] !== undefined);
    const value = key !== undefined ? given[key] : input.defaultValue;
    if (value !== undefined) result[input.name] = expand(value);
  }
  for (const [name, value] of Object.entries(given)) {
    const known = definition.inputs.some((input) => input.name === name || input.aliases?.includes(name));
    if (!known) result[name] = expand(value);
  }
  return result;
}
