import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import * as tl from 'azure-pipelines-task-lib/task';
import { readNetworkSettings } from '../shared/agent-environment';
import { readAzureRmConnection } from '../shared/azure-connection';
import * as input from '../shared/inputs';
import type { NetworkSettings } from '../shared/network';
import { sdkClientOptions } from '../shared/network';
import { createRedactor, excerpt, type Redact } from '../shared/redaction';
import { readStepPlace, writeSummaryFile } from '../shared/summary-file';
import { isTaskError, TaskError, TaskErrors } from '../shared/task-error';
import { percent } from '../shared/wording';
import { localise, runTask } from '../shared/task-shell';
import { parseChecks, type VariableLookup } from './checks-file';
import type { Check } from './checks';
import { defaultErrorLogPattern, healthMetric, healthMetrics } from './health-catalog';
import { defaultThresholds, logAnalyticsEndpoints, parseHealthTarget, type HealthReport } from './health';
import { parseThresholds } from './health-thresholds';
import type { HealthPlan } from './health-watch';
import { createSend } from './http-client';
import { credentialHeaderValues } from './redact';
import { runGate, type GateConfig } from './run';
import { runInShell } from './shell';
import { controlCharacterProblem, decodeText } from './text-file';

// Constants come before the entry point, which runs as soon as the bundle loads.
/** An input error quotes at most this much of what was given: a 120 KB input is not echoed whole. */
const quotedInputLength = 200;

/** A checks file past this size is refused before it is read: validating 1 MB takes about a second. */
const maxChecksFileBytes = 10 * 1024 * 1024;

/** The test command says it is still running this often, so the log never looks dead. */
const testCommandProgressMs = 30_000;
/** At its time limit the test command's processes get this long to stop before they are killed. */
const testCommandGraceMs = 5_000;

/**
 * AcceptanceGate@1: reads the inputs once, runs the gate, and publishes what it
 * found: the JUnit file to the Tests tab, the summary to the run, the output
 * variables, and the verdict as the task result.
 */
void runTask(async () => {
  const network = readNetworkSettings();
  const workDir = tl.getVariable('System.DefaultWorkingDirectory') || process.cwd();
  const variables = readJobVariables();
  let inputs: Inputs;
  try {
    inputs = readInputs(workDir, network, variables);
  } catch (error) {
    throw quoteBriefly(error, createRedactor(variables.secretValues));
  }
  const { config, secretValues, redactedValues, publishResults, restricted } = inputs;
  // Only secret variables are registered: a registered value is masked in every later step.
  for (const secret of secretValues) tl.setSecret(secret);
  const redact = createRedactor([...secretValues, ...redactedValues]);
  if (restricted) tl.warning(tl.loc('RestrictedMode'));

  const { send, close } = createSend(network, config.concurrencyPerHost);
  let outcome;
  try {
    outcome = await runGate(config, {
      send,
      now: () => Date.now(),
      // The global timer, which a test's fast clock (test/fixtures/fast-clock.cjs) can speed up.
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      log: writeLine,
      redact,
      localise: (reason) => localise(new TaskError(reason.key, reason.args)),
      runShell: (command, env, timeoutMs) =>
        runInShell(command, env, workDir, {
          timeoutMs,
          graceMs: testCommandGraceMs,
          progressEveryMs: testCommandProgressMs,
          onProgress: (elapsedMs) =>
            writeLine(tl.loc('TestCommandRunning', duration(elapsedMs), duration(timeoutMs))),
        }).catch((error: unknown) => {
          throw new TaskError('TestCommandNotStarted', [command, String(error)], error);
        }),
      findResults: (glob) =>
        tl
          .findMatch(workDir, glob)
          .map((path) => ({ path, stat: statSync(path) }))
          .filter(({ stat }) => stat.isFile())
          .map(({ path, stat }) => ({ path, modifiedMs: stat.mtimeMs })),
      readFile: (path) => readFileSync(path),
    });
  } finally {
    close();
  }

  const tempDirectory = tl.getVariable('Agent.TempDirectory') || workDir;
  const outDir = join(tempDirectory, `acceptance-gate-${tl.getVariable('System.JobId') || 'local'}`);
  mkdirSync(outDir, { recursive: true });
  const junitPath = join(outDir, 'acceptance-gate.junit.xml');
  writeFileSync(junitPath, outcome.junitXml, { mode: 0o600 });
  // Named for the Extensions tab, which titles a summary with its file's name.
  const summaryPath = writeSummaryFile(
    tempDirectory,
    `Acceptance gate (${config.place?.environment ?? config.place?.stage ?? new URL(config.baseUrl).host})`,
    outcome.summaryMarkdown,
  );
  writeLine(tl.loc('ResultsWritten', junitPath, summaryPath));
  if (restricted) {
    writeLine(outcome.summaryMarkdown);
  } else {
    if (publishResults) {
      new tl.TestPublisher('JUnit').publish([junitPath], 'false', '', '', 'Acceptance gate', 'false');
    }
    tl.uploadSummary(summaryPath);
  }

  const { verdict } = outcome;
  tl.setVariable('passRate', String(verdict.passRate), false, true);
  tl.setVariable('verdict', verdict.outcome, false, true);
  tl.setVariable('score', String(verdict.score), false, true);
  const { passed, flaky, failed, skipped } = verdict.counts;
  // Metrics that warned or had no data are said even when another failed the gate.
  for (const issue of outcome.issues) tl.warning(localise(issue));
  if (verdict.outcome !== 'Failed') {
    if (verdict.outcome !== 'Passed') {
      tl.setResult(
        tl.TaskResult.SucceededWithIssues,
        tl.loc('GateVerdictWithIssues', verdict.outcome, verdict.score, percent(verdict.passRate)),
      );
      return;
    }
    tl.setResult(
      tl.TaskResult.Succeeded,
      verdict.ran
        ? tl.loc('GatePassed', percent(verdict.passRate), passed, flaky, failed, skipped)
        : tl.loc('GatePassedOnHealthAlone'),
    );
    return;
  }
  writeLine(
    verdict.ran
      ? tl.loc('GateFailed', percent(verdict.passRate), passed, flaky, failed, skipped)
      : tl.loc('GateFailedNothingRan', skipped),
  );
  throw outcome.failures.length === 1 ? outcome.failures[0] : new TaskErrors(outcome.failures);
});

/** Everything read from the inputs, before anything is sent. */
interface Inputs {
  readonly config: GateConfig;
  /** Values of secret variables the checks use: registered with the agent and redacted. */
  readonly secretValues: readonly string[];
  /** Credential header values: redacted in the gate's own output only. */
  readonly redactedValues: readonly string[];
  readonly publishResults: boolean;
  readonly restricted: boolean;
}

function readInputs(workDir: string, network: NetworkSettings, variables: JobVariables): Inputs {
  const baseUrl = readBaseUrl();
  const { checks, secretValues } = readChecks(workDir, variables.lookup);
  const config: GateConfig = {
    baseUrl,
    checks,
    ...readReadiness(baseUrl),
    ...readTestCommand(),
    minPassRate: input.integer('minPassRate', 100, 0, 100),
    retryFailed: input.integer('retryFailed', 0, 0, 5),
    concurrencyPerHost: input.integer('concurrencyPerHost', 16, 1, 64),
    ...readHealth(network),
    place: readStepPlace(),
  };
  if (config.checks.length === 0 && !config.testCommand && !config.health)
    throw new TaskError('NothingToCheck');
  return {
    config,
    secretValues,
    redactedValues: [...new Set(checks.flatMap((check) => credentialHeaderValues(check.headers)))],
    publishResults: input.boolean('publishResults', true),
    // The agent does not tell a step that it runs with `target.commands: restricted`;
    // the pipeline says so through this input, and the task says it once.
    restricted: input.boolean('commandsRestricted', false),
  };
}

// Inputs may hold the job's secrets (the agent expands $(variables) into them): redacted, then cut.
function quoteBriefly(error: unknown, redact: Redact): unknown {
  const shorten = (each: TaskError) =>
    new TaskError(
      each.key,
      each.args.map((arg) => (typeof arg === 'string' ? excerpt(arg, quotedInputLength, redact) : arg)),
      each.cause,
    );
  if (error instanceof TaskErrors) return new TaskErrors(error.errors.map(shorten));
  return error instanceof TaskError ? shorten(error) : error;
}

/** "2 min 30 s", "45 s": a running time as the log shows it. */
function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes === 0 ? `${seconds} s` : `${minutes} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
}

function writeLine(line: string): void {
  process.stdout.write(line + EOL);
}

function readBaseUrl(): string {
  const value = input.requiredString('baseUrl', tl.loc('BaseUrlHint'));
  if (!/^https?:\/\/[^/]/i.test(value) || !URL.canParse(value))
    throw new TaskError('BaseUrlInvalid', [value]);
  return value.replace(/\/+$/, '');
}

// One line that names an existing file is a file; anything else is the YAML itself.
function readChecks(
  workDir: string,
  variables: VariableLookup,
): { checks: readonly Check[]; secretValues: readonly string[] } {
  // Read without task-lib's debug echo of the value: inline checks may hold a literal credential.
  const raw = quietly(() => tl.getInput('checks', false)) ?? '';
  if (raw.trim() === '') return { checks: [], secretValues: [] };
  const single = raw.trim();
  const looksLikePath = !/[\n:]\s|^-/.test(single) && !single.includes('\n');
  let text = raw;
  let file = 'checks (inline)';
  if (looksLikePath) {
    const path = isAbsolute(single) ? single : resolve(workDir, single);
    if (!existsSync(path)) throw new TaskError('ChecksFileNotFound', [single, workDir]);
    const stat = statSync(path);
    if (!stat.isFile()) throw new TaskError('ChecksFileNotAFile', [single]);
    if (stat.size > maxChecksFileBytes)
      throw new TaskError('ChecksFileTooLarge', [
        single,
        megabytes(stat.size),
        megabytes(maxChecksFileBytes),
      ]);
    const decoded = decodeText(readFileSync(path));
    if (!decoded.ok) throw new TaskError('ChecksNotText', [single, decoded.problem]);
    text = decoded.text;
    file = single;
  } else {
    const problem = controlCharacterProblem(raw);
    if (problem) throw new TaskError('ChecksNotText', [file, problem]);
  }
  const parsed = parseChecks(text, file, variables);
  if (!parsed.ok) {
    throw new TaskErrors(
      parsed.problems.map((p) => new TaskError('ChecksInvalid', [p.file, p.line, p.field, p.problem])),
    );
  }
  return { checks: parsed.checks, secretValues: parsed.secretValues };
}

function megabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** The job's variables as the gate needs them: a `$(name)` lookup that knows secrets, and the secret values. */
interface JobVariables {
  readonly lookup: VariableLookup;
  readonly secretValues: readonly string[];
}

// task-lib's getVariable writes "name=value" to the debug stream even for secrets, so every
// variable is read with task-lib's output muted. Only task-lib knows which variables are
// secret (the agent's VSTS_SECRET_VARIABLES); getVariables says so for each.
function readJobVariables(): JobVariables {
  const known = quietly(() => tl.getVariables());
  const secretKeys = new Set(known.filter((variable) => variable.secret).map((v) => variableKey(v.name)));
  return {
    lookup: (name) => {
      const value = quietly(() => tl.getVariable(name));
      return value === undefined ? undefined : { value, secret: secretKeys.has(variableKey(name)) };
    },
    secretValues: known.filter((variable) => variable.secret && variable.value).map((v) => v.value),
  };
}

// task-lib's own key for a variable name: dots and spaces as underscores, upper case.
function variableKey(name: string): string {
  return name.replace(/[. ]/g, '_').toUpperCase();
}

function quietly<T>(read: () => T): T {
  tl.setStdStream(new Writable({ write: (_chunk, _encoding, done) => done() }));
  try {
    return read();
  } finally {
    tl.setStdStream(process.stdout);
  }
}

function readReadiness(baseUrl: string): Pick<GateConfig, 'readiness'> {
  const target = input.optionalString('waitUntilReady');
  if (!target) return {};
  const url = target.startsWith('/') ? baseUrl + target : target;
  if (!/^https?:\/\/[^/]/i.test(url) || !URL.canParse(url))
    throw new TaskError('ReadinessUrlInvalid', [target]);
  const seconds = input.integer('readinessTimeoutSeconds', 300, 1, 3600);
  return { readiness: { url, timeoutMs: seconds * 1000 } };
}

function readTestCommand(): Pick<GateConfig, 'testCommand'> {
  const command = input.optionalString('testCommand');
  if (!command) return {};
  return {
    testCommand: {
      command,
      resultsGlob: input.optionalString('testResults') ?? '**/TEST-*.xml',
      timeoutMinutes: input.integer('testTimeoutMinutes', 30, 1, 1440),
    },
  };
}

function readHealth(network: NetworkSettings): Pick<GateConfig, 'health'> {
  const targetText = input.optionalString('logAnalyticsWorkspaceId');
  if (!targetText) return {};
  const target = parseHealthTarget(targetText);
  const connection = readAzureRmConnection('azureSubscription');
  const endpoint =
    input.optionalString('logAnalyticsEndpoint') ??
    logAnalyticsEndpoints[connection.cloud.environment.toLowerCase()];
  if (!endpoint) throw new TaskError('LogAnalyticsEndpointUnknown', [connection.cloud.environment]);
  if (!URL.canParse(endpoint)) throw new TaskError('LogAnalyticsEndpointInvalid', [endpoint]);
  const customQuery = input.optionalString('healthQuery');
  const cluster = readClusterScope();
  const thresholds = parseThresholds(
    input.optionalString('healthThresholds') ?? defaultThresholds(cluster !== undefined),
    { catalog: healthMetrics.map((metric) => metric.name), customQuery: customQuery !== undefined },
  );
  // With a custom query a Container Insights name may be one of its columns; without one it needs the cluster.
  const needsCluster = thresholds.find((t) => healthMetric(t.metric)?.source === 'Container Insights');
  if (needsCluster && !cluster && !customQuery)
    throw new TaskError('HealthClusterScopeMissing', [needsCluster.line, needsCluster.metric]);
  // An Application Insights resource holds only the app's tables; Container Insights writes to the workspace.
  if (
    cluster &&
    'resourceId' in target &&
    /\/providers\/microsoft\.insights\/components\//i.test(target.resourceId)
  )
    throw new TaskError('HealthClusterNeedsWorkspace', [target.resourceId]);
  const roleName = input.optionalString('appRoleName');
  const version = input.optionalString('appVersion');
  const windowStart = deployStart();
  const plan: Omit<HealthPlan, 'target'> = {
    thresholds,
    ...(customQuery ? { customQuery } : {}),
    ...(cluster ? { cluster } : {}),
    app: { ...(roleName ? { roleName } : {}), ...(version ? { version } : {}) },
    errorLogPattern: input.optionalString('errorLogPattern') ?? defaultErrorLogPattern,
    windowStart,
    waitMinutes: input.integer('healthWaitMinutes', 5, 0, 60),
  };
  return {
    health: async (deps): Promise<HealthReport> => {
      // The Azure SDK is most of the bundle; a gate without a workspace never loads it.
      const [
        { createCredential, diagnoseSignInFailure },
        { createLogsQuery, healthTargetLabel },
        { watchHealth },
      ] = await Promise.all([
        import('../shared/azure-credential'),
        import('./health-query'),
        import('./health-watch'),
      ]);
      const query = createLogsQuery(
        createCredential(connection, network),
        { endpoint, clientOptions: sdkClientOptions(network, endpoint) },
        target,
      );
      try {
        return await watchHealth({ ...plan, target: healthTargetLabel(target) }, { ...deps, query });
      } catch (error) {
        if (isTaskError(error)) throw error;
        throw await diagnoseSignInFailure(error, connection, network);
      }
    },
  };
}

// Container Insights metrics are scoped to the release: its cluster, namespace and pod hashes, all three or none.
function readClusterScope(): HealthPlan['cluster'] {
  const cluster = input.optionalString('clusterName');
  const namespace = input.optionalString('namespace');
  const hashes = (input.optionalString('podTemplateHash') ?? '')
    .split(',')
    .map((hash) => hash.trim())
    .filter((hash) => hash !== '');
  const given = { clusterName: cluster, namespace, podTemplateHash: hashes.length > 0 ? 'set' : undefined };
  const missing = Object.entries(given).filter(([, value]) => value === undefined);
  if (missing.length === 3) return undefined;
  if (missing.length > 0)
    throw new TaskError('HealthClusterScopeIncomplete', [missing.map(([name]) => name).join(', ')]);
  return { cluster: cluster as string, namespace: namespace as string, podTemplateHashes: hashes };
}

// The health window opens when the deploy started: an explicit time, else the pipeline's start, else an hour ago.
function deployStart(): Date {
  const given = input.optionalString('healthWindowStart') ?? tl.getVariable('System.PipelineStartTime');
  const parsed = given ? new Date(given) : undefined;
  if (given && (!parsed || Number.isNaN(parsed.getTime())))
    throw new TaskError('HealthWindowStartInvalid', [given]);
  return parsed ?? new Date(Date.now() - 3_600_000);
}
