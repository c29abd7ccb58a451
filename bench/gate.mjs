// `npm run bench -- gate` (or `node bench/gate.mjs`): AcceptanceGate@1 running 500 HTTP
// checks against the loopback staging app with 20 ms of latency on every request,
// compared in the same run, alternating, with
//   sequential  the same checks run one by one (one request in flight): the sum of the checks
//   core        the gate's check runner in-process with the task's default bound (16 per host)
//   task        the bundled task (dist/tasks/AcceptanceGate) spawned by the agent harness: wall time
// Prints a table, then, as its last line, one JSON object (see ../shared/design/benchmarks.md).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { register } from 'tsx/cjs/api';
import { buildTasks, median } from './support.mjs';

const require = createRequire(import.meta.url);
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

const metrics = {
  checks,
  latencyMs,
  taskMs: Math.round(median(samples.task)),
  sequentialMs: Math.round(median(samples.sequential)),
  coreMs: Math.round(median(samples.core)),
  concurrencyPerHost: perHost,
  floorMs: Math.ceil(checks / perHost) * latencyMs,
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
console.log(JSON.stringify({ bench: 'gate', node: process.version, runs, metrics }));
