import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tl from 'azure-pipelines-task-lib/task';
import { readNetworkSettings } from '../shared/agent-environment';
import { readAzureRmConnection } from '../shared/azure-connection';
import * as input from '../shared/inputs';
import type { NetworkSettings } from '../shared/network';
import { sdkClientOptions } from '../shared/network';
import { isTaskError, TaskError, TaskErrors } from '../shared/task-error';
import { localise, runTask } from '../shared/task-shell';
import { parseChecks } from './checks-file';
import type { Check } from './checks';
import {
  defaultHealthQuery,
  defaultHealthThresholds,
  logAnalyticsEndpoints,
  parseHealthTarget,
  parseThresholds,
  type HealthReport,
} from './health';
import { createSend } from './http-client';
import { createRedactor, headerSecrets } from './redact';
import { runGate, type GateConfig } from './run';
import { runInShell } from './test-command';

/**
 * AcceptanceGate@1: reads the inputs once, runs the gate, and publishes what it
 * found: the JUnit file to the Tests tab, the summary to the run, the output
 * variables, and the verdict as the task result.
 */
void runTask(async () => {
  const network = readNetworkSettings();
  const workDir = tl.getVariable('System.DefaultWorkingDirectory') || process.cwd();
  const baseUrl = readBaseUrl();
  const { checks, secrets } = readChecks(workDir);
  for (const secret of secrets) tl.setSecret(secret);
  const redact = createRedactor(secrets);
  const concurrencyPerHost = input.integer('concurrencyPerHost', 16, 1, 64);
  const config: GateConfig = {
    baseUrl,
    checks,
    ...readReadiness(baseUrl),
    ...readTestCommand(),
    minPassRate: input.integer('minPassRate', 100, 0, 100),
    retryFailed: input.integer('retryFailed', 0, 0, 5),
    concurrencyPerHost,
    ...readHealth(network),
  };
  if (config.checks.length === 0 && !config.testCommand && !config.health)
    throw new TaskError('NothingToCheck');
  const publishResults = input.boolean('publishResults', true);
  // The agent does not tell a step that it runs with `target.commands: restricted`;
  // the pipeline says so through this input, and the task says it once.
  const restricted = input.boolean('commandsRestricted', false);
  if (restricted) tl.warning(tl.loc('RestrictedMode'));

  const { send, close } = createSend(network, concurrencyPerHost);
  let outcome;
  try {
    outcome = await runGate(config, {
      send,
      now: () => Date.now(),
      sleep: (ms) => sleep(ms),
      log: writeLine,
      redact,
      localise: (reason) => localise(new TaskError(reason.key, reason.args)),
      runShell: (command, env) =>
        runInShell(command, env, workDir).catch((error: unknown) => {
          throw new TaskError('TestCommandNotStarted', [command, String(error)], error);
        }),
      findResults: (glob) =>
        tl
          .findMatch(workDir, glob)
          .map((path) => ({ path, stat: statSync(path) }))
          .filter(({ stat }) => stat.isFile())
          .map(({ path, stat }) => ({ path, modifiedMs: stat.mtimeMs })),
      readFile: (path) => readFileSync(path, 'utf8'),
    });
  } finally {
    close();
  }

  const outDir = join(
    tl.getVariable('Agent.TempDirectory') || workDir,
    `acceptance-gate-${tl.getVariable('System.JobId') || 'local'}`,
  );
  mkdirSync(outDir, { recursive: true });
  const junitPath = join(outDir, 'acceptance-gate.junit.xml');
  const summaryPath = join(outDir, 'acceptance-gate.md');
  writeFileSync(junitPath, outcome.junitXml, { mode: 0o600 });
  writeFileSync(summaryPath, outcome.summaryMarkdown, { mode: 0o600 });
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
  tl.setVariable('verdict', verdict.passed ? 'Passed' : 'Failed', false, true);
  const { passed, flaky, failed, skipped } = verdict.counts;
  if (verdict.passed) {
    tl.setResult(
      tl.TaskResult.Succeeded,
      tl.loc('GatePassed', verdict.passRate, passed, flaky, failed, skipped),
    );
    return;
  }
  writeLine(tl.loc('GateFailed', verdict.passRate, passed, flaky, failed, skipped));
  throw outcome.failures.length === 1 ? outcome.failures[0] : new TaskErrors(outcome.failures);
});

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
function readChecks(workDir: string): { checks: readonly Check[]; secrets: string[] } {
  const raw = tl.getInput('checks', false) ?? '';
  if (raw.trim() === '') return { checks: [], secrets: [] };
  const single = raw.trim();
  const looksLikePath = !/[\n:]\s|^-/.test(single) && !single.includes('\n');
  let text = raw;
  let file = 'checks (inline)';
  if (looksLikePath) {
    const path = isAbsolute(single) ? single : resolve(workDir, single);
    if (!existsSync(path)) throw new TaskError('ChecksFileNotFound', [single, workDir]);
    text = readFileSync(path, 'utf8');
    file = single;
  }
  const parsed = parseChecks(text, file, readVariableQuietly);
  if (!parsed.ok) {
    throw new TaskErrors(
      parsed.problems.map((p) => new TaskError('ChecksInvalid', [p.file, p.line, p.field, p.problem])),
    );
  }
  const secrets = parsed.checks.flatMap((check) => headerSecrets(check.headers, parsed.variableValues));
  return { checks: parsed.checks, secrets: [...new Set(secrets)] };
}

// task-lib's getVariable writes "name=value" to the debug stream even for secrets; a
// header may name a secret, so its value is read with task-lib's output muted.
function readVariableQuietly(name: string): string | undefined {
  tl.setStdStream(new Writable({ write: (_chunk, _encoding, done) => done() }));
  try {
    return tl.getVariable(name);
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
  return { testCommand: { command, resultsGlob: input.optionalString('testResults') ?? '**/TEST-*.xml' } };
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
  const thresholds = parseThresholds(input.optionalString('healthThresholds') ?? defaultHealthThresholds);
  const query = input.optionalString('healthQuery') ?? defaultHealthQuery;
  const start = deployStart();
  return {
    health: async (): Promise<HealthReport> => {
      // The Azure SDK is most of the bundle; a gate without a workspace never loads it.
      const [{ createCredential, diagnoseSignInFailure }, { queryHealth }] = await Promise.all([
        import('../shared/azure-credential'),
        import('./health-query'),
      ]);
      try {
        return await queryHealth(
          createCredential(connection, network),
          { endpoint, clientOptions: sdkClientOptions(network, endpoint) },
          target,
          query,
          { startTime: start, endTime: new Date() },
          thresholds,
        );
      } catch (error) {
        if (isTaskError(error)) throw error;
        throw await diagnoseSignInFailure(error, connection, network);
      }
    },
  };
}

// The health window opens when the deploy started: an explicit time, else the pipeline's start, else an hour ago.
function deployStart(): Date {
  const given = input.optionalString('healthWindowStart') ?? tl.getVariable('System.PipelineStartTime');
  const parsed = given ? new Date(given) : undefined;
  if (given && (!parsed || Number.isNaN(parsed.getTime())))
    throw new TaskError('HealthWindowStartInvalid', [given]);
  return parsed ?? new Date(Date.now() - 3_600_000);
}
