// `npm run bench -- pipeline`: the CD example (templates/examples/azure-pipelines-cd.yml)
// through the local pipeline runner, against the same steps run directly, alternating, on
// one emulated world (CI runs once first, so both deploy and promote the same image):
//   runner  runPipelineFile: compile time, the checks, then every stage, job and step
//   direct  the same steps one after another, each started as the runner starts it but
//           with nothing around it: the packaged tasks through the agent harness (pre-job
//           phases included), the two digest scripts with bash, the downloads as file
//           copies; no compile, conditions, variables, logging or records
// Both redeploy the same release, so each rollout is a no-op after the first run.
// Prints a table, then, as its last line, one JSON object (see ../shared/design/benchmarks.md).
import '../test/support/loopback-dns.cjs';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatedWorld, sampleAppFolder, workspaceId } from '../demo/world';
import { buildAndUnpack, repoRoot } from '../runner/extension-package';
import { preparePipeline, runPipelineFile, taskCatalog } from '../runner/pipeline';
import { presetApprovals } from '../runner/run/approvals';
import { silentLog } from '../runner/run/log';
import type { Endpoint } from '../runner/agent/environment';
import type { ServiceConnection } from '../runner/builtin/types';
import { runTask, type RunDirectories } from '../test/harness/agent';
import { median } from './support.mjs';

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const stepTimes = { runner: [] as number[], direct: [] as number[] };
  let directStepMs = 0;
  const outDir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
  const runsRoot = join(outDir, 'runs');
  const extension = await buildAndUnpack(join(outDir, 'extension'));
  const world = await startEmulatedWorld({ runsRoot });
  const examples = join(repoRoot, 'templates', 'examples');
  const approvals = presetApprovals('approved');

  const ci = await runPipelineFile({
    file: join(examples, 'azure-pipelines-ci.yml'),
    name: 'orders-api-ci',
    parameters: world.parameters.ci,
    resources: world.resources,
    tasksFolder: extension.tasksDir,
    runsRoot,
    approvals,
    log: silentLog,
  });
  if (ci.record.result !== 'Succeeded') throw new Error(`CI failed: ${ci.record.result}`);
  const digest = readFileSync(join(ci.folder, 'artifacts', 'image', 'digest'), 'utf8').trim();
  await world.serveRelease('orders/api', digest);

  async function runner(): Promise<number> {
    const started = performance.now();
    const { record } = await runPipelineFile({
      file: join(examples, 'azure-pipelines-cd.yml'),
      name: 'orders-api-cd',
      parameters: world.parameters.cd,
      resources: world.resources,
      tasksFolder: extension.tasksDir,
      runsRoot,
      approvals,
      timeScale: 0.001,
      log: silentLog,
      triggeredBy: { alias: 'ci', runFolder: ci.folder },
    });
    if (record.result !== 'Succeeded') throw new Error(`CD through the runner: ${record.result}`);
    stepTimes.runner.push(
      record.stages
        .flatMap((stage) => stage.jobs)
        .flatMap((job) => job.steps)
        .reduce((sum, each) => sum + each.durationMs, 0),
    );
    return performance.now() - started;
  }

  const connection = (name: string): ServiceConnection =>
    world.resources.connections.find((each) => each.name === name)!;
  const endpointOf = (each: ServiceConnection): Endpoint => ({
    url: each.url,
    scheme: each.scheme,
    parameters: each.parameters,
    data: each.data,
  });
  const environmentEndpoint = (name: string): Endpoint => {
    const base = endpointOf(connection(name));
    return { ...base, data: { ...base.data, namespace: 'orders' } };
  };
  const machineEnv = world.resources.machine.env;
  const task = (name: string) => join(extension.tasksDir, name);

  /** One task step as the runner would start it, through the agent harness. */
  async function step(
    name: string,
    inputs: Record<string, string>,
    endpoints: Record<string, Endpoint>,
    options: {
      entry?: string;
      prepare?: (dirs: RunDirectories) => void;
      variables?: Record<string, string>;
    } = {},
  ): Promise<void> {
    const started = performance.now();
    const run = await runTask({
      task: task(name),
      ...(options.entry ? { entry: options.entry } : {}),
      inputs,
      endpoints,
      env: machineEnv,
      ...(options.variables ? { variables: options.variables } : {}),
      ...(options.prepare ? { prepare: options.prepare } : {}),
      // The runner starts a task on the highest Node handler it declares that the machine has.
      node: 'node24',
      timeoutMs: 120_000,
      // The runner runs no leak check; nor does the direct path.
      skipLeakCheckForHarnessTests: true,
    });
    if (run.agentResult !== 'Succeeded' && run.agentResult !== 'SucceededWithIssues') {
      throw new Error(`${name} directly: ${run.result?.message ?? run.agentResult}`);
    }
    directStepMs += performance.now() - started;
  }

  const digestScript = (file: string) =>
    execFileSync('bash', ['-c', `digest="$(tr -d '[:space:]' < "${file}")"; [[ "$digest" =~ ^sha256: ]]`]);

  async function direct(): Promise<number> {
    directStepMs = 0;
    const started = performance.now();
    const workspace = mkdtempSync(join(outDir, 'direct-'));
    // Each job has a workspace of its own, as on the agent.
    const download = (artifact: string, job: string) => {
      const target = join(workspace, job, 'ci', artifact);
      cpSync(join(ci.folder, 'artifacts', artifact), target, { recursive: true });
      return target;
    };
    const deploy = async (environment: 'staging' | 'production', vault: string, image: string) => {
      const azure = connection(environment === 'staging' ? 'orders-staging' : 'orders-production');
      const keyVault = {
        azureSubscription: azure.name,
        keyVaultName: vault,
        secrets: 'applicationinsights-connection-string => APPLICATIONINSIGHTS_CONNECTION_STRING',
        exportFile: 'app-insights.yaml',
        exportFormat: 'kubernetesSecret',
      };
      await step('KeyVaultSecrets', keyVault, { [azure.name]: endpointOf(azure) }, { entry: 'prejob.js' });
      if (environment === 'staging') digestScript(join(download('image', environment), 'digest'));
      const manifests = download('manifests', environment);
      let exported = '';
      await step(
        'KeyVaultSecrets',
        keyVault,
        { [azure.name]: endpointOf(azure) },
        {
          prepare: (dirs) => (exported = join(dirs.temp, 'app-insights.yaml')),
        },
      );
      await step(
        'AksDeploy',
        {
          connectionType: 'kubernetesServiceConnection',
          kubernetesServiceConnection: 'environment',
          // The environment's overlay, as templates/steps/deploy.yml names it.
          manifests: `${manifests}/overlays/${environment}\n${exported}`,
          images: `orders/api => ${image}`,
          rolloutTimeout: '600',
          rollbackOnFailure: 'true',
        },
        { environment: environmentEndpoint(`${environment}-kubernetes`) },
      );
    };
    await deploy(
      'staging',
      'orders-staging-kv',
      `${world.registries.nonprod.loginServer}/orders/api@${digest}`,
    );

    const sources = join(workspace, 'acceptance', 's');
    cpSync(sampleAppFolder, sources, { recursive: true, filter: (path) => !path.includes('node_modules') });
    const staging = connection('orders-staging');
    await step(
      'AcceptanceGate',
      {
        baseUrl: world.stagingUrl,
        checks: join(sources, 'deploy', 'acceptance-checks.yaml'),
        waitUntilReady: '/healthz',
        minPassRate: '100',
        azureSubscription: staging.name,
        logAnalyticsWorkspaceId: workspaceId,
        healthThresholds: 'failedRatePercent <= 1\np95DurationMs <= 1000',
        logAnalyticsEndpoint: world.parameters.cd.logAnalyticsEndpoint!,
      },
      { [staging.name]: endpointOf(staging) },
    );

    digestScript(join(download('image', 'promote'), 'digest'));
    const production = connection('orders-production');
    await step(
      'AcrPromoteImage',
      {
        sourceConnection: staging.name,
        sourceRegistry: world.registries.nonprod.loginServer,
        sourceImage: `orders/api@${digest}`,
        targetConnection: production.name,
        targetRegistry: world.registries.prod.loginServer,
        targetTags: String(ci.record.runId),
        copyReferrers: 'true',
      },
      { [staging.name]: endpointOf(staging), [production.name]: endpointOf(production) },
    );
    await deploy('production', 'orders-prod-kv', `${world.registries.prod.loginServer}/orders/api@${digest}`);
    rmSync(workspace, { recursive: true, force: true });
    stepTimes.direct.push(directStepMs);
    return performance.now() - started;
  }

  /** Compile time and the checks alone, as the runner does them before a run. */
  function compile(): number {
    const started = performance.now();
    preparePipeline(
      {
        file: join(examples, 'azure-pipelines-cd.yml'),
        parameters: world.parameters.cd,
        resources: world.resources,
        triggeredBy: { alias: 'ci', runFolder: ci.folder },
      },
      taskCatalog(extension.tasksDir),
    );
    return performance.now() - started;
  }

  // Warm-up: the first deploys create everything, the first process starts and handshakes are slower.
  await runner();
  await direct();
  const samples = { runner: [] as number[], direct: [] as number[], compile: [] as number[] };
  for (let i = 0; i < runs; i++) {
    samples.runner.push(await runner());
    samples.direct.push(await direct());
    samples.compile.push(compile());
  }
  await world.stop();
  rmSync(outDir, { recursive: true, force: true });

  const metrics = {
    runnerMs: Math.round(median(samples.runner)),
    directMs: Math.round(median(samples.direct)),
    overheadRatio: Number((median(samples.runner) / median(samples.direct)).toFixed(3)),
    phases: {
      compileMs: Math.round(median(samples.compile)),
      runnerStepsMs: Math.round(median(stepTimes.runner)),
      directStepsMs: Math.round(median(stepTimes.direct)),
    },
  };
  const row = (name: string, ms: number, note: string) =>
    `${name.padEnd(8)}${String(ms).padStart(8)} ms  ${note}`;
  console.log(`pipeline: the CD example (5 stages, 17 steps), median of ${runs} runs, alternating`);
  console.log(
    row('runner', metrics.runnerMs, 'npm run pipeline’s path: compile, checks, stages, jobs, steps, records'),
  );
  console.log(
    row('direct', metrics.directMs, 'the same steps started one after another, nothing around them'),
  );
  console.log(
    `phases: compile and checks ${metrics.phases.compileMs} ms; steps ${metrics.phases.runnerStepsMs} ms in the runner, ${metrics.phases.directStepsMs} ms directly`,
  );
  console.log(
    `runner / direct = ${metrics.overheadRatio} (goal ≤ 1.10: ${metrics.overheadRatio <= 1.1 ? 'met' : 'not met'})`,
  );
  console.log(JSON.stringify({ bench: 'pipeline', node: process.version, runs, metrics }));
}

void main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench pipeline: ${error.message}`);
    process.exit(1);
  },
);
