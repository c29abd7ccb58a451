// `npm run bench -- gate` (or `node bench/gate.mjs`): AcceptanceGate@1 running 500 HTTP
// checks against the loopback staging app with 20 ms of latency on every request,
// compared in the same run, alternating, with
//   sequential  the same checks run one by one (one request in flight): the sum of the checks
//   core        the gate's check runner in-process with the task's default bound (16 per host)
//   task        the bundled task (dist/tasks/AcceptanceGate) spawned by the agent harness: wall time
// and the health part: 20 metric queries (the 12 catalog metrics, 8 of them with a relative limit and
// so a baseline query each) through the real LogsQueryClient against the emulated Log Analytics, a
// workspace of 100 000 rows whose KQL it evaluates, with 200 ms of latency, compared, alternating,
// with one query's time (each Container Insights query finds the release's pods itself: one round trip):
//   healthMs    the gate's health watch in-process, from its start to the last metric
//   oneQueryMs  one query, the same client and emulator
//   healthSequentialMs  the same watch with each query sent after the one before
// Prints a table, then, as its last line, one JSON object (see ../shared/design/benchmarks.md).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { register } from 'tsx/cjs/api';
import { buildTasks, median, root } from './support.mjs';

const require = createRequire(import.meta.url);
// *.azure.test names resolve to the loopback emulators, as in the tests.
require(join(root, 'test', 'support', 'loopback-dns.cjs'));
// The staging app, the harness and the gate's core are TypeScript, loaded as the tests load them.
register();

const checks = 500;
const latencyMs = 20;
const perHost = 16;
const runs = Number(process.env.BENCH_RUNS ?? 5);

const { startStagingApp } = require('../test/fixtures/staging-app.ts');
const { runTask } = require('../test/harness/agent.ts');
const { parseChecks } = require('../tasks/AcceptanceGate/checks-file.ts');
const { runChecks } = require('../tasks/AcceptanceGate/check-runner.ts');
const { HostPool } = require('../tasks/AcceptanceGate/host-pool.ts');
const { createSend } = require('../tasks/AcceptanceGate/http-client.ts');
const { startEmulatedCloud } = require('../test/emulators/cloud.ts');
const { EmulatedLogAnalytics } = require('../test/emulators/log-analytics.ts');
const { resolveCloud } = require('../tasks/shared/cloud.ts');
const { createCredential } = require('../tasks/shared/azure-credential.ts');
const { sdkClientOptions } = require('../tasks/shared/network.ts');
const { healthMetrics } = require('../tasks/AcceptanceGate/health-catalog.ts');
const { parseThresholds } = require('../tasks/AcceptanceGate/health-thresholds.ts');
const { watchHealth } = require('../tasks/AcceptanceGate/health-watch.ts');
const { fillWorkspace } = require('../test/emulators/log-analytics/synthetic.ts');
const { createLogsQuery } = require('../tasks/AcceptanceGate/health-query.ts');

buildTasks();

const app = await startStagingApp();
for (let i = 0; i < checks; i++) app.route(`/items/${i}`, { body: { id: i, status: 'ok' } });
app.setLatency(latencyMs);
const checksYaml = [
  'checks:',
  ...Array.from({ length: checks }, (_, i) =>
    [
      `  - name: item ${i}`,
      `    path: /items/${i}`,
      '    assertions:',
      '      - jsonPath: $.status',
      '        equals: ok',
    ].join('\n'),
  ),
].join('\n');
const parsed = parseChecks(checksYaml, 'bench.yaml', () => undefined);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems.slice(0, 3)));

async function inProcess(bound) {
  const http = createSend({}, bound);
  const started = performance.now();
  const results = await runChecks(parsed.checks, app.url, 0, {
    send: http.send,
    pool: new HostPool(bound),
    redact: (text) => text,
  });
  const elapsed = performance.now() - started;
  http.close();
  if (results.some((r) => r.outcome !== 'passed')) throw new Error('a check failed in the bench');
  return elapsed;
}

async function task() {
  const run = await runTask({
    task: 'AcceptanceGate',
    inputs: { baseUrl: app.url, checks: 'checks.yaml', concurrencyPerHost: String(perHost) },
    prepare: (dirs) => writeFileSync(join(dirs.sources, 'checks.yaml'), checksYaml),
    timeoutMs: 120_000,
  });
  if (run.result?.status !== 'Succeeded') throw new Error(`the task did not pass: ${run.result?.message}`);
  return run.durationMs;
}

// Warm-up: the first process start and the first sockets are slower than the rest.
await task();
await inProcess(perHost);

const samples = { sequential: [], core: [], task: [] };
for (let i = 0; i < runs; i++) {
  samples.sequential.push(await inProcess(1));
  samples.task.push(await task());
  samples.core.push(await inProcess(perHost));
}
await app.stop();

// Health: the emulated cloud, its Log Analytics with 200 ms on every query.
const healthLatencyMs = 200;
const workspaceRows = 100_000;
const relative = [
  'requests',
  'failedRatePercent',
  'p95DurationMs',
  'exceptions',
  'restarts',
  'errorLogLines',
  'cpuPercentOfLimit',
  'memoryPercentOfLimit',
];
const thresholdsText = healthMetrics
  .map((metric) => `${metric.name}: pass ${relative.includes(metric.name) ? '<= +10%' : '<= 1000000'}`)
  .join('\n');
const thresholds = parseThresholds(thresholdsText, {
  catalog: healthMetrics.map((metric) => metric.name),
  customQuery: false,
});
const metricQueries = thresholds.length + relative.length;
const cloud = await startEmulatedCloud();
const logs = new EmulatedLogAnalytics((token, audience) => cloud.entra.verifyAccessToken(token, audience));
cloud.azure.register('loganalytics.azure.test', logs.handler);
const workspaceId = '7f3c0d52-0c8a-4e1b-9b6f-2b1d3c4e5f60';
// A busy workspace: 100 000 rows over the last hour, 100 pods, 4 of them the release's. The
// emulator runs each query's KQL over them, as the service would.
logs.addWorkspace(workspaceId);
const scope = fillWorkspace(logs, workspaceId, workspaceRows);
const tenantId = '72f988bf-0000-4000-8000-0000000000ee';
const principal = { clientId: '77777777-0000-4000-8000-000000000007', secret: 'bench-health-secret' };
cloud.entra.addApp(tenantId, { clientId: principal.clientId, secrets: [principal.secret] });
const network = { extraCaPem: cloud.azure.ca.caPem };
const endpoint = cloud.azure.url('loganalytics.azure.test', '');
const connection = {
  id: 'bench',
  inputName: 'azureSubscription',
  cloud: resolveCloud('bench', {
    environment: 'AzureStack',
    url: cloud.azure.url('management.azure.test', '/'),
    environmentAuthorityUrl: cloud.authorityHost,
    activeDirectoryServiceEndpointResourceId: 'https://management.azure.test/',
    azureKeyVaultDnsSuffix: cloud.azure.authority('vault.azure.test'),
  }),
  authentication: { scheme: 'ServicePrincipal', tenantId, ...principal },
};
const query = createLogsQuery(
  createCredential(connection, network),
  { endpoint, clientOptions: sdkClientOptions(network, endpoint) },
  { workspaceId },
);
// The emulator's latency knob: every query takes this long on top of evaluating it.
logs.latencyMs = healthLatencyMs;
const window = { startTime: new Date(Date.now() - 1_800_000), endTime: new Date() };

async function oneQuery() {
  const started = performance.now();
  await query(healthMetrics[0].query(scope), window);
  return performance.now() - started;
}

const phases = { firstAnswerMs: [], afterFirstAnswerMs: [] };
async function health({ oneByOne } = { oneByOne: false }) {
  let sent = 0;
  let firstAnswer = 0;
  let previous = Promise.resolve();
  // One by one: each query waits for the one before, the gate's logic otherwise unchanged.
  const send = (text, range) => {
    const answer = previous.then(() => query(text, range));
    previous = answer.catch(() => undefined);
    return answer;
  };
  const counting = async (text, range) => {
    sent++;
    const answer = await (oneByOne ? send(text, range) : query(text, range));
    firstAnswer ||= performance.now();
    return answer;
  };
  const started = performance.now();
  const report = await watchHealth(
    {
      target: `workspace ${workspaceId}`,
      thresholds,
      cluster: {
        cluster: scope.cluster.cluster,
        namespace: scope.cluster.namespace,
        podTemplateHashes: ['7d9f8c6b5'],
      },
      app: scope.app,
      errorLogPattern: scope.errorLogPattern,
      windowStart: window.startTime,
      waitMinutes: 0,
    },
    { query: counting, now: () => Date.now(), sleep: async () => {}, log: () => {} },
  );
  const elapsed = performance.now() - started;
  if (!oneByOne) {
    phases.firstAnswerMs.push(firstAnswer - started);
    phases.afterFirstAnswerMs.push(started + elapsed - firstAnswer);
  }
  // 20 metric queries and nothing else: no pod lookup.
  if (sent !== metricQueries) throw new Error(`sent ${sent} queries, expected ${metricQueries}`);
  const missing = report.metrics.filter((metric) => metric.outcome === 'Inconclusive').map((m) => m.name);
  if (missing.length > 0) throw new Error(`no data for ${missing.join(', ')}`);
  return elapsed;
}

// Warm-up: sign-in and the first connections.
await oneQuery();
await health();
const healthSamples = { one: [], health: [], oneByOne: [], unloaded: [] };
phases.firstAnswerMs.length = 0;
phases.afterFirstAnswerMs.length = 0;
for (let i = 0; i < runs; i++) {
  healthSamples.one.push(await oneQuery());
  healthSamples.health.push(await health());
  healthSamples.oneByOne.push(await health({ oneByOne: true }));
  // One query without the latency: what the emulator spends evaluating it, on this one thread.
  logs.latencyMs = 0;
  healthSamples.unloaded.push(await oneQuery());
  logs.latencyMs = healthLatencyMs;
}
await cloud.azure.stop();

const metrics = {
  checks,
  latencyMs,
  taskMs: Math.round(median(samples.task)),
  sequentialMs: Math.round(median(samples.sequential)),
  coreMs: Math.round(median(samples.core)),
  concurrencyPerHost: perHost,
  floorMs: Math.ceil(checks / perHost) * latencyMs,
  healthMetricQueries: metricQueries,
  healthLatencyMs,
  workspaceRows,
  healthMs: Math.round(median(healthSamples.health)),
  healthSequentialMs: Math.round(median(healthSamples.oneByOne)),
  oneQueryWithoutLatencyMs: Math.round(median(healthSamples.unloaded)),
  oneQueryMs: Math.round(median(healthSamples.one)),
  phases: {
    // All 20 queries leave at once: the first answer comes after one latency and one evaluation;
    // the rest is the emulator (and the client) working through the others on this one thread.
    firstAnswerMs: Math.round(median(phases.firstAnswerMs)),
    afterFirstAnswerMs: Math.round(median(phases.afterFirstAnswerMs)),
  },
};
const row = (name, ms, note) => `${name.padEnd(12)}${String(ms).padStart(8)} ms  ${note}`;
console.log(`gate: ${checks} checks, ${latencyMs} ms latency, ${perHost} per host, median of ${runs} runs`);
console.log(row('sequential', metrics.sequentialMs, 'checks one by one (the sum)'));
console.log(row('floor', metrics.floorMs, `⌈checks / ${perHost}⌉ × latency`));
console.log(row('core', metrics.coreMs, 'check runner in-process'));
console.log(row('task', metrics.taskMs, 'bundled task, spawn to exit'));
console.log(
  `task / sequential = ${(metrics.taskMs / metrics.sequentialMs).toFixed(3)} (goal ≤ 0.1: ${metrics.taskMs <= 0.1 * metrics.sequentialMs ? 'met' : 'not met'})`,
);
console.log(
  `health: ${metricQueries} metric queries, ${healthLatencyMs} ms latency, ${workspaceRows} rows evaluated, median of ${runs} runs`,
);
console.log(row('oneQuery', metrics.oneQueryMs, 'one query'));
console.log(row('one by one', metrics.healthSequentialMs, 'the same queries, each after the one before'));
console.log(row('health', metrics.healthMs, 'every metric and baseline at once, one round trip'));
console.log(row('  first', metrics.phases.firstAnswerMs, 'until the first answer'));
console.log(row('  rest', metrics.phases.afterFirstAnswerMs, 'the other 19 answers, on one thread'));
console.log(
  `health / oneQuery = ${(metrics.healthMs / metrics.oneQueryMs).toFixed(2)} (goal ≤ 1.5: ${metrics.healthMs <= 1.5 * metrics.oneQueryMs ? 'met' : 'not met'}); floor 1 (one round trip)`,
);
// The emulator runs in this process: it evaluates the concurrent queries one after another on
// this one thread, which the service does not. The floor here is one latency plus that work.
const threadFloorMs = healthLatencyMs + metricQueries * metrics.oneQueryWithoutLatencyMs;
console.log(
  `one query without latency ${metrics.oneQueryWithoutLatencyMs} ms: floor on one thread ${healthLatencyMs} + ${metricQueries} × ${metrics.oneQueryWithoutLatencyMs} = ${threadFloorMs} ms; health / floor = ${(metrics.healthMs / threadFloorMs).toFixed(2)}`,
);
console.log(JSON.stringify({ bench: 'gate', node: process.version, runs, metrics }));
