/**
 * Runs a bundled pipeline task the way the Azure Pipelines agent does, and reports what the
 * agent would have seen.
 *
 * `runTask` spawns `dist/tasks/<Task>/<entry>` (or a task folder given by absolute path, as
 * unpacked from the .vsix) on Node 20 or Node 24 with a clean, agent-shaped environment:
 * inputs, service connections, job variables (fresh Agent.TempDirectory and work folder per
 * run), secret variables and the system connection. It parses every `##vso[...]` line,
 * applies the agent's masking and, optionally, its restricted command mode, then checks the
 * run for leaked secrets and throws an AssertionError if it finds one.
 *
 * @example
 * const run = await runTask({
 *   task: 'KeyVaultSecrets',
 *   node: 'node24',
 *   inputs: { azureSubscription: 'conn', keyVaultName: 'contoso-ci-kv' },
 *   endpoints: {
 *     conn: {
 *       url: 'https://management.azure.test/',
 *       scheme: 'ServicePrincipal',
 *       parameters: { tenantid: TENANT, serviceprincipalid: CLIENT, serviceprincipalkey: KEY, authenticationType: 'spnKey' },
 *       data: { subscriptionId: SUB, environment: 'AzureCloud' },
 *     },
 *   },
 *   env: kit.env, // NODE_EXTRA_CA_CERTS and NODE_OPTIONS=--require .../loopback-dns.cjs
 *   secrets: servedSecretValues, // what the emulated vault serves: must end up masked
 * });
 * assert.equal(run.result?.status, 'Succeeded');
 * assert.equal(run.variables.get('DB_PASSWORD')?.secret, true);
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { LoggingCommand } from '../../runner/agent/commands';
import {
  agentMasksParameter,
  buildEnvironment,
  createRunDirectories,
  defaultVariables,
  isCredentialParameter,
  newAccessToken,
  systemConnectionId,
  type Endpoint,
  type RunDirectories,
} from '../../runner/agent/environment';
import { assertNoLeaks, type KnownSecret } from './leak-check';
import {
  OutputProcessor,
  type Attachment,
  type BlockedCommand,
  type Issue,
  type SetVariable,
  type StepRestrictions,
  type TaskStatus,
} from '../../runner/agent/output-processor';
import { runProcess } from '../../runner/agent/processes';

export type { Endpoint, RunDirectories } from '../../runner/agent/environment';
export type {
  Attachment,
  BlockedCommand,
  Issue,
  SetVariable,
  TaskStatus,
} from '../../runner/agent/output-processor';
export type { LoggingCommand } from '../../runner/agent/commands';

/** The repository root, found from this file so that the checkout can live anywhere. */
export const repoRoot = resolve(__dirname, '..', '..');

/** One task run. Only `task` is required. */
export interface TaskRun {
  /** A folder name under dist/tasks (e.g. `KeyVaultSecrets`) or an absolute task folder. */
  readonly task: string;
  /** The execution target inside the folder; `index.js` unless, say, `prejob.js`. */
  readonly entry?: string;
  /** `node20` (default; the test's own Node, which must be v20) or `node24` (the bundled one). */
  readonly node?: 'node20' | 'node24';
  /** Task inputs by name as task.json spells them. */
  readonly inputs?: Readonly<Record<string, string>>;
  /** Service connections by id; `SYSTEMVSSCONNECTION` is added unless given here. */
  readonly endpoints?: Readonly<Record<string, Endpoint>>;
  /** Job variables, merged over the defaults (e.g. `{ 'System.Debug': 'true' }`). */
  readonly variables?: Readonly<Record<string, string>>;
  /** Secret job variables, passed as the agent passes them (SECRET_<NAME>, VSTS_SECRET_VARIABLES). */
  readonly secretVariables?: Readonly<Record<string, string>>;
  /** The system connection's AccessToken; a fresh random one when omitted. */
  readonly accessToken?: string;
  /** Extra environment for the process, e.g. from the emulator kit. Wins over everything else. */
  readonly env?: Readonly<Record<string, string>>;
  /** Values the test knows are secret (e.g. what an emulated Key Vault serves). */
  readonly secrets?: readonly string[];
  /**
   * Files meant to hold secrets (an export the user asked for): an absolute path, a path
   * relative to the run's root, Agent.TempDirectory or the sources folder, or a RegExp
   * tested against the absolute path.
   */
  readonly expectedSecretFiles?: readonly (string | RegExp)[];
  /** Emulates `commands: restricted` on the step (task.json's own restrictions always apply). */
  readonly restrictedCommands?: boolean;
  /** Emulates `settableVariables: { allowed: [...] }` on the step. */
  readonly settableVariables?: readonly string[];
  /** Kills the process tree after this long; default 45 s (mocha's timeout is 60 s). */
  readonly timeoutMs?: number;
  /** Writes files into the run's folders before the task starts. */
  readonly prepare?: (dirs: RunDirectories) => void | Promise<void>;
  /** Turns the leak check off. Only for the harness's own tests of that check. */
  readonly skipLeakCheckForHarnessTests?: boolean;
}

/** What the agent saw. Variables hold real values; everything that the agent logs is masked. */
export interface TaskRunResult {
  /** Exit code, or null when the process died of a signal (including the timeout). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The step's log as the agent shows it: output lines and rendered issues, secrets as `***`. */
  readonly log: string;
  readonly logLines: readonly string[];
  /** The last `task.complete` (results merged, worst wins), or undefined if the task never sent one. */
  readonly result: { readonly status: TaskStatus; readonly message: string } | undefined;
  /** What the agent would record for the step, counting the exit code and failed commands. */
  readonly agentResult: TaskStatus;
  readonly errors: readonly Issue[];
  readonly warnings: readonly Issue[];
  readonly variables: ReadonlyMap<string, SetVariable>;
  readonly outputVariables: ReadonlyMap<string, SetVariable>;
  /** Every value registered for masking, in order (including the agent's own). */
  readonly secrets: readonly string[];
  readonly progress: readonly { value: number; description: string }[];
  readonly attachments: readonly Attachment[];
  readonly summaries: readonly Attachment[];
  readonly uploadedFiles: readonly Attachment[];
  readonly publishedTestResults: readonly { properties: Record<string, string>; data: string }[];
  readonly prependPath: readonly string[];
  readonly debug: readonly string[];
  readonly commands: readonly LoggingCommand[];
  /** Commands refused by restricted mode, with the agent's warning. */
  readonly blockedCommands: readonly BlockedCommand[];
  /** Commands the agent could not process (each fails the step). */
  readonly commandFailures: readonly string[];
  readonly dirs: RunDirectories;
  /** The environment the task ran with (holds secrets: never print it). */
  readonly environment: Readonly<Record<string, string>>;
}

/** Runs one task to completion and returns what the agent would have seen; throws on a leak. */
export async function runTask(run: TaskRun): Promise<TaskRunResult> {
  const taskDir = isAbsolute(run.task) ? run.task : join(repoRoot, 'dist', 'tasks', run.task);
  const entry = join(taskDir, run.entry ?? 'index.js');
  if (!existsSync(entry)) {
    throw new Error(`No task entry at ${entry}. Build the tasks first: node scripts/build.mjs`);
  }
  const nodePath = nodeExecutable(run.node ?? 'node20');
  const dirs = createRunDirectories();
  await run.prepare?.(dirs);

  const collectionUri = run.variables?.['System.CollectionUri'] ?? 'https://dev.azure.test/contoso/';
  const variables = { ...defaultVariables(dirs, collectionUri), ...run.variables };
  const accessToken = run.accessToken ?? newAccessToken();
  const endpoints: Record<string, Endpoint> = {
    [systemConnectionId]: { url: collectionUri, scheme: 'OAuth', parameters: { AccessToken: accessToken } },
    ...run.endpoints,
  };
  const secretVariables = run.secretVariables ?? {};
  const environment = buildEnvironment({
    dirs,
    inputs: run.inputs ?? {},
    endpoints,
    variables,
    secretVariables,
    extra: run.env ?? {},
  });

  const agentMasked = [
    ...Object.values(secretVariables),
    ...Object.values(endpoints).flatMap((endpoint) =>
      Object.entries(endpoint.parameters ?? {})
        .filter(([key]) => agentMasksParameter(key))
        .map(([, value]) => value),
    ),
  ];
  const processor = new OutputProcessor({
    restrictions: restrictionsFor(taskDir, run),
    variables,
    initialSecrets: agentMasked,
    readOnlyVariables: Object.keys(variables).filter((name) => /^(system|build|agent)\./i.test(name)),
    secretVariableNames: Object.keys(secretVariables),
  });

  const timeoutMs = run.timeoutMs ?? 45_000;
  const exit = await runProcess({
    command: nodePath,
    args: [entry],
    cwd: dirs.sources,
    env: environment,
    timeoutMs,
    onLine: (line, stream) => processor.line(line, stream),
  });
  if (exit.timedOut) processor.line(`##[error]The task timed out after ${timeoutMs} ms and was killed.`);
  const out = processor.output;
  for (const attachment of out.attachments) attachment.content = readIfPresent(attachment.path);

  const variablesSet = out.variables;
  const result: TaskRunResult = {
    ...exit,
    log: out.logLines.join('\n'),
    logLines: out.logLines,
    result: out.result,
    agentResult: exit.timedOut ? 'Failed' : processor.finalStatus(exit.exitCode),
    errors: out.errors,
    warnings: out.warnings,
    variables: variablesSet,
    outputVariables: new Map([...variablesSet].filter(([, v]) => v.isOutput)),
    secrets: processor.masker.registered(),
    progress: out.progress,
    attachments: out.attachments,
    summaries: out.summaries,
    uploadedFiles: out.uploadedFiles,
    publishedTestResults: out.publishedTestResults,
    prependPath: out.prependPath,
    debug: out.debug,
    commands: out.commands,
    blockedCommands: out.blocked,
    commandFailures: out.commandFailures,
    dirs,
    environment,
  };

  if (!run.skipLeakCheckForHarnessTests) {
    assertNoLeaks(
      {
        secrets: knownSecrets(run, secretVariables, endpoints),
        trace: out.trace,
        registered: processor.masker.registered(),
        logLines: out.logLines,
        files: filesWritten(dirs, run.expectedSecretFiles ?? []),
      },
      `Task ${run.task} (${run.entry ?? 'index.js'}, ${run.node ?? 'node20'})`,
    );
  }
  return result;
}

/**
 * The Node binary for a handler: for node20 the test's own Node, which must be v20; for
 * node24 the real Node 24 kept in tools/node24 (installed from the npm registry on first use).
 */
export function nodeExecutable(node: 'node20' | 'node24'): string {
  if (node === 'node24') {
    node24 ??= execFileSync(process.execPath, [join(repoRoot, 'scripts', 'node24.mjs')], {
      encoding: 'utf8',
    }).trim();
    return node24;
  }
  if (!process.versions.node.startsWith('20.')) {
    throw new Error(
      `node20 runs need the tests to run on Node 20, but they run on v${process.versions.node}.`,
    );
  }
  return process.execPath;
}

let node24: string | undefined;

function restrictionsFor(taskDir: string, run: TaskRun): StepRestrictions[] {
  const restrictions: StepRestrictions[] = [];
  const taskJson = join(taskDir, 'task.json');
  if (existsSync(taskJson)) {
    const declared = (
      JSON.parse(readFileSync(taskJson, 'utf8')) as {
        restrictions?: { commands?: { mode?: string }; settableVariables?: { allowed?: string[] } };
      }
    ).restrictions;
    if (declared) {
      restrictions.push({
        restrictedCommands: /^restricted$/i.test(declared.commands?.mode ?? ''),
        settableVariables: declared.settableVariables?.allowed,
      });
    }
  }
  if (run.restrictedCommands !== undefined || run.settableVariables !== undefined) {
    restrictions.push({
      restrictedCommands: run.restrictedCommands,
      settableVariables: run.settableVariables,
    });
  }
  return restrictions;
}

function knownSecrets(
  run: TaskRun,
  secretVariables: Readonly<Record<string, string>>,
  endpoints: Readonly<Record<string, Endpoint>>,
): KnownSecret[] {
  return [
    ...Object.entries(secretVariables).map(([name, value]) => ({ value, origin: `secret variable ${name}` })),
    ...Object.entries(endpoints).flatMap(([id, endpoint]) =>
      Object.entries(endpoint.parameters ?? {})
        .filter(([key, value]) => value && isCredentialParameter(key))
        .map(([key, value]) => ({ value, origin: `connection ${id} parameter ${key}` })),
    ),
    ...(run.secrets ?? []).map((value, index) => ({ value, origin: `test secret #${index + 1}` })),
  ].filter((secret) => secret.value.length > 0);
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

// Files bigger than this are skipped: tasks write manifests and exports, not images.
const maxScannedBytes = 16 * 1024 * 1024;

function filesWritten(dirs: RunDirectories, expected: readonly (string | RegExp)[]): Map<string, string> {
  const isExpected = (path: string) =>
    expected.some((rule) =>
      typeof rule === 'string'
        ? [path, relative(dirs.root, path), relative(dirs.temp, path), relative(dirs.sources, path)].includes(
            rule,
          )
        : rule.test(path),
    );
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !isExpected(path) && statSync(path).size <= maxScannedBytes) {
        files.set(path, readFileSync(path, 'utf8'));
      }
    }
  };
  walk(dirs.root);
  return files;
}
