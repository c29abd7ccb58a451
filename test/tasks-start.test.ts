import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runTask, type Endpoint, type RunDirectories, type TaskRunResult } from './harness/agent';

/**
 * Every bundled task, started with no inputs on both Node handlers, must fail the way a
 * user can act on: one error line from the task's own messages, no stack trace, no
 * unhandled rejection, no missing resource file and no unlocalised message key.
 */
const tasksSource = join(repoRoot, 'tasks');
const tasksBuilt = join(repoRoot, 'dist', 'tasks');

const sourceTasks = () =>
  readdirSync(tasksSource, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(tasksSource, entry.name, 'task.json')))
    .map((entry) => entry.name)
    .sort();

function newestSourceChange(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceChange(path));
    else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

// The build is cheap, so any doubt about the bundles means building again.
function bundlesAreStale(): boolean {
  const bundles = sourceTasks().map((task) => join(tasksBuilt, task, 'index.js'));
  if (bundles.some((bundle) => !existsSync(bundle))) return true;
  const oldestBundle = Math.min(...bundles.map((bundle) => statSync(bundle).mtimeMs));
  const newestSource = Math.max(
    newestSourceChange(tasksSource),
    statSync(join(repoRoot, 'scripts', 'build.mjs')).mtimeMs,
  );
  return newestSource > oldestBundle;
}

/** The execution target the agent would run for a handler (execution.Node20_1 / Node24). */
function executionTarget(task: string, handler: 'Node20_1' | 'Node24'): string {
  const taskJson = JSON.parse(readFileSync(join(tasksBuilt, task, 'task.json'), 'utf8')) as {
    execution?: Record<string, { target: string }>;
  };
  const target = taskJson.execution?.[handler]?.target;
  assert.ok(target, `${task}/task.json has no execution.${handler} handler`);
  return target;
}

function buildIfStale(this: Mocha.Context): void {
  this.timeout(120_000);
  if (!bundlesAreStale()) return;
  const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  assert.equal(build.status, 0, `node scripts/build.mjs failed:\n${build.stdout}\n${build.stderr}`);
}

const handlers = [
  ['node20', 'Node20_1'],
  ['node24', 'Node24'],
] as const;

/** One error line, a Failed result with exit code 1, and nothing of a crash around it. */
function assertOneCleanError(run: TaskRunResult, expected: RegExp): void {
  const output = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.exitCode, 1, `exit code; output:\n${output}`);
  assert.equal(run.result?.status, 'Failed', 'task.complete result');
  assert.equal(run.errors.length, 1, `error issues: ${run.errors.map((e) => e.message).join(' | ')}`);
  assert.match(run.errors[0]?.message ?? '', expected);
  assert.ok(!output.includes('    at '), 'a stack trace reached the output');
  assert.ok(!output.includes('Unhandled'), 'an unhandled error reached the output');
}

describe('every bundled task started with no inputs', function () {
  before(buildIfStale);

  for (const task of sourceTasks()) {
    for (const [node, handler] of handlers) {
      it(`${task} on ${node} fails with one clear error`, async () => {
        const run = await runTask({ task, node, entry: executionTarget(task, handler) });
        const output = `${run.stdout}\n${run.stderr}`;

        assert.notEqual(run.exitCode, 0, 'exit code');
        assert.equal(run.result?.status, 'Failed', 'task.complete result');
        assert.equal(run.errors.length, 1, `error issues: ${run.errors.map((e) => e.message).join(' | ')}`);
        const [error] = run.errors;
        assert.ok(error && error.message.length > 0);
        assert.doesNotMatch(error.message, /^[A-Za-z_]+$/, 'the error is a bare message key');
        assert.ok(!output.includes('    at '), 'a stack trace reached the output');
        assert.ok(!output.includes('Unhandled'), 'an unhandled error reached the output');
        assert.ok(
          !output.includes('LIB_ResourceFile does not exist'),
          'task.json was not found beside the bundle',
        );
        assert.ok(
          !output.includes("Can't find loc string for key"),
          'a message key is missing from task.json',
        );
      });
    }
  }
});

describe('every bundled task started where Agent.TempDirectory cannot be written', function () {
  let scratch: string;
  before(buildIfStale);
  before(() => (scratch = mkdtempSync(join(tmpdir(), 'temp-not-a-folder-'))));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  // As root, a read-only mode changes nothing: a regular file where the folder should be
  // fails for every user, as task-lib's key file cannot be created inside it.
  for (const task of sourceTasks()) {
    for (const [node, handler] of handlers) {
      it(`${task} on ${node} names the folder in one line and exits 1`, async () => {
        const notAFolder = join(scratch, `${task}-${node} temp`);
        writeFileSync(notAFolder, 'a file, not a folder');
        const run = await runTask({
          task,
          node,
          entry: executionTarget(task, handler),
          env: { AGENT_TEMPDIRECTORY: notAFolder },
        });
        assertOneCleanError(
          run,
          new RegExp(
            `^The task cannot start: the folder '${escapeRegExp(notAFolder)}' \\(Agent\\.TempDirectory\\) cannot be written, because it is a file, not a folder\\.`,
          ),
        );
      });
    }
  }
});

describe('every bundled task given a connection whose authorization is not JSON', function () {
  before(buildIfStale);

  // Only this malformed authorization holds it, so the harness's leak check finds it wherever
  // it shows: the agent never registered it for masking.
  const secretInAuthorization = 'malformed-authorization-secret-7f3a9c';
  const malformedAuthorization = `{"parameters":{"tenantid":"tenant","serviceprincipalkey":"${secretInAuthorization}"},"scheme":"ServicePrincipal"`;
  const armConnection: Endpoint = {
    url: 'https://management.azure.test/',
    scheme: 'ServicePrincipal',
    parameters: {
      tenantid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      serviceprincipalid: '5b6e2c1a-0d0b-4b8e-9d7f-3c2a1e0f9a11',
      serviceprincipalkey: 'well-formed-client-secret-value',
      authenticationType: 'spnKey',
    },
    data: { environment: 'AzureCloud', subscriptionId: '00000000-0000-0000-0000-000000000001' },
  };
  const kubernetesConnection: Endpoint = {
    url: 'https://aks-staging.azure.test:6443',
    scheme: 'Kubernetes',
    parameters: { kubeconfig: 'apiVersion: v1\nkind: Config\n' },
    data: { authorizationType: 'Kubeconfig' },
  };
  const writeManifest = (dirs: RunDirectories): void => {
    mkdirSync(join(dirs.sources, 'k8s'), { recursive: true });
    writeFileSync(
      join(dirs.sources, 'k8s', 'app.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n',
    );
  };
  const withInput =
    /^The service connection 'conn' named by the input '(\w+)' cannot be read: .*not a JSON object.*not shown here/;
  const cases: {
    task: string;
    what: string;
    inputs: Record<string, string>;
    endpoint: Endpoint;
    prepare?: (dirs: RunDirectories) => void;
    error: RegExp;
  }[] = [
    {
      task: 'KeyVaultSecrets',
      what: 'its Azure connection',
      inputs: { azureSubscription: 'conn', keyVaultName: 'contoso-ci-kv', secrets: '*' },
      endpoint: armConnection,
      error: withInput,
    },
    {
      task: 'AcrPromoteImage',
      what: 'its source connection',
      inputs: {
        sourceConnection: 'conn',
        sourceRegistry: 'contosononprod',
        sourceImage: 'app:1.0',
        targetRegistry: 'contosoprod',
      },
      endpoint: armConnection,
      error: withInput,
    },
    {
      task: 'AksDeploy',
      what: 'its Azure connection',
      inputs: { azureSubscription: 'conn', resourceGroup: 'rg', clusterName: 'aks', manifests: 'k8s/*.yaml' },
      endpoint: armConnection,
      prepare: writeManifest,
      error: withInput,
    },
    {
      task: 'AksDeploy',
      what: 'its Kubernetes connection',
      inputs: {
        connectionType: 'kubernetesServiceConnection',
        kubernetesServiceConnection: 'conn',
        manifests: 'k8s/*.yaml',
      },
      endpoint: kubernetesConnection,
      prepare: writeManifest,
      error: withInput,
    },
    {
      task: 'AcceptanceGate',
      what: 'its Azure connection',
      inputs: {
        azureSubscription: 'conn',
        baseUrl: 'https://app.azure.test',
        logAnalyticsWorkspaceId: '0b4f3c1e-2d5a-4e6f-8a7b-9c0d1e2f3a4b',
      },
      endpoint: armConnection,
      error: withInput,
    },
  ];
  for (const each of cases) {
    for (const [node, handler] of handlers) {
      it(`${each.task} on ${node} reads ${each.what} and shows none of it`, async () => {
        const run = await runTask({
          task: each.task,
          node,
          entry: executionTarget(each.task, handler),
          inputs: each.inputs,
          endpoints: { conn: each.endpoint },
          env: { ENDPOINT_AUTH_conn: malformedAuthorization },
          secrets: [secretInAuthorization],
          ...(each.prepare ? { prepare: each.prepare } : {}),
          variables: { 'System.Debug': 'true' },
        });
        assertOneCleanError(run, each.error);
        const output = `${run.stdout}\n${run.stderr}`;
        for (const piece of ['serviceprincipalkey', secretInAuthorization.slice(0, 12), '{"parameters"']) {
          assert.ok(!output.includes(piece), `the output shows '${piece}'`);
        }
      });
    }
  }
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
