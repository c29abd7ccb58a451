// `npm run bench -- deploy` (or `node bench/deploy.mjs`): AksDeploy@1 applying 200 objects
// (a Namespace, 20 Deployments of 2 replicas whose simulated pods become ready 2 s after
// they start, 20 Services and 159 ConfigMaps) to a fresh emulated cluster each run,
// compared in the same run, alternating, with
//   floor       the slowest single simulated rollout: one Deployment applied alone and
//               waited on, in-process with the task's own client (apply to rolled out)
//   sequential  the same client and apply as the task (16 at a time), then a wait on each
//               Deployment one after another (list, then watch until it is rolled out), as
//               KubernetesManifest@1 checks its rollouts: apply start to the last rollout
//   core        the task's run() in-process with the same client: apply, then every rollout
//               watched at once (no process start, no input reading)
//   task        the bundled task (dist/tasks/AksDeploy) spawned by the agent harness, on
//               Node 20: wall time from spawn to exit, waiting on every rollout at once
//   taskOverlay the same, with the 200 objects as a Kustomize base and an overlay of 20
//               strategic merge patches (one per Deployment), named as one manifests line;
//               taskRenderMs is the render as the task logs it. Beyond the render, the
//               overlay's objects come in Kustomize's order (ConfigMaps and Services before
//               Deployments), so the rollouts start after more applies than from the file.
// and rendering alone, in-process, alternating, with no cluster:
//   kubectlStart  `kubectl version --client`, spawn to exit: the kubectl process start
//   plainRead     the task reading the 200 objects from plain files (what it does anyway)
//   render        the task reading the overlay: its kustomizations checked, kubectl
//                 kustomize run, its output read (phases: check, tool, parse)
// renderAddedMs = render - plainRead, the goal being ≤ 1.2 × kubectlStartMs.
// Prints a table, then, as its last line, one JSON object (see ../shared/design/benchmarks.md).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/cjs/api';
import { buildTasks, median } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
require(join(root, 'test', 'support', 'loopback-dns.cjs'));
// The emulators, the harness and the task's client are TypeScript, loaded as the tests load them.
register();

const objects = 200;
const workloads = 20;
const services = 20;
const readyAfterMs = 2000;
const applyConcurrency = 16;
const runs = Number(process.env.BENCH_RUNS ?? 5);

const { startEmulatedAzure } = require('../test/emulators/server.ts');
const { EmulatedCluster } = require('../test/emulators/kubernetes/cluster.ts');
const { runTask } = require('../test/harness/agent.ts');
const { KubernetesClient } = require('../tasks/shared/kubernetes/client.ts');
const { Cluster } = require('../tasks/AksDeploy/cluster.ts');
const { rolloutState } = require('../tasks/AksDeploy/rollout-status.ts');
const { run } = require('../tasks/AksDeploy/run.ts');
const { applySetFor } = require('../tasks/AksDeploy/apply-set.ts');
const { readManifestSources } = require('../tasks/AksDeploy/manifest-files.ts');
const { parseManifestFiles } = require('../tasks/AksDeploy/manifests.ts');
const { checkKustomization } = require('../tasks/AksDeploy/kustomization.ts');
const { renderKustomizations, renderTimeoutMs } = require('../tasks/AksDeploy/render.ts');
const { chooseRenderTool } = require('../tasks/AksDeploy/render-tool.ts');
const { runCommand } = require('../tasks/AksDeploy/run-command.ts');
const { parse } = require('yaml');

buildTasks();

const ns = 'bench';
const image = 'registry.azure.test:5000/bench/app';
const token = 'bench-deployer-token';
const deployment = (i) =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    `metadata: { name: app-${i} }`,
    'spec:',
    '  replicas: 2',
    `  selector: { matchLabels: { app: app-${i} } }`,
    '  template:',
    `    metadata: { labels: { app: app-${i} } }`,
    `    spec: { containers: [{ name: app, image: "${image}:1.0", ports: [{ containerPort: 8080 }] }] }`,
  ].join('\n');
const service = (i) =>
  `apiVersion: v1\nkind: Service\nmetadata: { name: app-${i} }\nspec: { selector: { app: app-${i} }, ports: [{ port: 80, targetPort: 8080 }] }`;
const configMap = (i) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings-${i} }\ndata: { index: "${i}" }`;
const namespaceDoc = `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns} }`;
const configMaps = objects - 1 - workloads - services;
const documents = [
  namespaceDoc,
  ...Array.from({ length: workloads }, (_, i) => deployment(i)),
  ...Array.from({ length: services }, (_, i) => service(i)),
  ...Array.from({ length: configMaps }, (_, i) => configMap(i)),
];
const manifest = documents.join('\n---\n');
const parsedObjects = documents.map((doc) => {
  const object = parse(doc);
  if (object.kind !== 'Namespace') object.metadata.namespace = ns;
  return object;
});

// The same 200 objects as a Kustomize base, and an overlay that patches each Deployment
// (a pod template annotation and an environment variable: a strategic merge patch each).
const patches = workloads;
const kustomizeFiles = {
  'deploy/base/kustomization.yaml': [
    'resources:',
    ...['namespace', 'deployments', 'services', 'configmaps'].map((name) => `  - ${name}.yaml`),
  ].join('\n'),
  'deploy/base/namespace.yaml': namespaceDoc,
  'deploy/base/deployments.yaml': documents.slice(1, 1 + workloads).join('\n---\n'),
  'deploy/base/services.yaml': documents.slice(1 + workloads, 1 + workloads + services).join('\n---\n'),
  'deploy/base/configmaps.yaml': documents.slice(1 + workloads + services).join('\n---\n'),
  'deploy/overlay/kustomization.yaml': [
    'resources: [../base]',
    'patches:',
    ...Array.from({ length: patches }, (_, i) => `  - path: patch-${i}.yaml`),
  ].join('\n'),
  ...Object.fromEntries(
    Array.from({ length: patches }, (_, i) => [
      `deploy/overlay/patch-${i}.yaml`,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        `metadata: { name: app-${i} }`,
        'spec:',
        '  template:',
        '    metadata: { annotations: { bench/overlay: staging } }',
        `    spec: { containers: [{ name: app, env: [{ name: ENVIRONMENT, value: staging }] }] }`,
      ].join('\n'),
    ]),
  ),
};
function writeFiles(folder, files) {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, file)), { recursive: true });
    writeFileSync(join(folder, file), text);
  }
}
const renderDir = mkdtempSync(join(tmpdir(), 'bench-render-'));
writeFiles(renderDir, { ...kustomizeFiles, 'k8s/app.yaml': manifest });
const kubectlPath = execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
const renderTool = chooseRenderTool(undefined, 'deploy/overlay', renderDir, {
  which: (name) => (name === 'kubectl' ? kubectlPath : undefined),
  isFile: () => false,
});

/** `kubectl version --client`, spawn to exit: what starting a kubectl process costs. */
function kubectlStart() {
  const started = performance.now();
  const result = spawnSync(kubectlPath, ['version', '--client'], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error('kubectl version --client failed');
  return performance.now() - started;
}

/** The task reading the 200 objects from plain files, as it does without Kustomize. */
function plainRead() {
  const started = performance.now();
  const sources = readManifestSources([{ line: 1, text: 'k8s/*.yaml' }], renderDir);
  const read = parseManifestFiles(sources.files);
  if (read.length !== objects) throw new Error(`read ${read.length} objects, not ${objects}`);
  return performance.now() - started;
}

/**
 * The task reading the overlay: its kustomizations checked, kubectl kustomize run, its output
 * read. The phases: the check (timed apart, on the side), the tool (spawn to exit), and the
 * rest (finding the folder, reading the tool's output).
 */
async function render() {
  const phases = { check: 0, tool: 0, read: 0 };
  const timedRun = async (command, args, options) => {
    const started = performance.now();
    const result = await runCommand(command, args, options);
    phases.tool = performance.now() - started;
    return result;
  };
  const checkStarted = performance.now();
  checkKustomization(join(renderDir, 'deploy', 'overlay'), renderDir);
  phases.check = performance.now() - checkStarted;
  const started = performance.now();
  const sources = readManifestSources([{ line: 1, text: 'deploy/overlay' }], renderDir);
  const { rendered } = await renderKustomizations(
    sources.kustomizations,
    { tool: renderTool, args: [], workDir: renderDir, images: [], timeoutMs: renderTimeoutMs },
    { run: timedRun, now: () => Date.now() },
  );
  const read = parseManifestFiles(sources.files, rendered[0].objects);
  if (read.length !== objects) throw new Error(`rendered ${read.length} objects, not ${objects}`);
  const total = performance.now() - started;
  phases.read = total - phases.tool - phases.check;
  return { total, phases };
}

const azure = await startEmulatedAzure();
let clusters = 0;

/** A fresh cluster for one sample, so every run creates its 200 objects and rolls out from nothing. */
function freshCluster() {
  const cluster = new EmulatedCluster({ name: `bench-${++clusters}`, tokens: [token], timeScale: 1 });
  cluster.setImageBehaviour(image, { readyAfterMs });
  const unregister = azure.register(cluster.host, cluster.handler);
  return {
    cluster,
    client: () =>
      new KubernetesClient(
        { server: azure.url(cluster.host), caPem: azure.ca.caPem, token: async () => token },
        { network: {} },
      ),
    stop: () => {
      unregister();
      cluster.stop();
    },
  };
}

async function applyAll(cluster, list) {
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const object = list[next++];
      const info = await cluster.resolve(object);
      const before = await cluster.get(info, object.metadata.namespace, object.metadata.name);
      const result = await cluster.apply(info, object, before, false);
      if (result.kind !== 'applied') throw new Error(`conflict applying ${object.metadata.name}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(applyConcurrency, list.length) }, worker));
}

/** Waits until one Deployment is rolled out by kubectl's rules: a list, then a watch from its version. */
async function waitForOne(cluster, name) {
  const info = await cluster.resolve(parsedObjects[1]);
  const controller = new AbortController();
  const isDone = (object) => object.metadata.name === name && rolloutState(object)?.phase === 'done';
  const relist = async () => {
    const { items, resourceVersion } = await cluster.list(info, ns);
    if (items.some(isDone)) controller.abort();
    return resourceVersion;
  };
  const from = await relist();
  if (controller.signal.aborted) return;
  await cluster.watch(
    info,
    ns,
    from,
    (event) => {
      const object = { ...event.object, kind: 'Deployment', apiVersion: 'apps/v1' };
      if (isDone(object)) controller.abort();
    },
    controller.signal,
    relist,
  );
}

async function floor() {
  const world = freshCluster();
  const client = world.client();
  const cluster = new Cluster(client);
  try {
    await applyAll(cluster, [parsedObjects[0]]);
    const started = performance.now();
    await applyAll(cluster, [parsedObjects[1]]);
    await waitForOne(cluster, parsedObjects[1].metadata.name);
    return performance.now() - started;
  } finally {
    client.close();
    world.stop();
  }
}

async function sequential() {
  const world = freshCluster();
  const client = world.client();
  const cluster = new Cluster(client);
  try {
    const started = performance.now();
    await applyAll(cluster, [parsedObjects[0]]);
    await applyAll(cluster, parsedObjects.slice(1));
    for (let i = 0; i < workloads; i++) await waitForOne(cluster, `app-${i}`);
    return performance.now() - started;
  } finally {
    client.close();
    world.stop();
  }
}

async function core() {
  const world = freshCluster();
  const client = world.client();
  try {
    const started = performance.now();
    const result = await run(
      {
        manifests: documents.map((doc, index) => ({
          object: parse(doc),
          file: 'app.yaml',
          document: index + 1,
        })),
        images: [],
        imagePullSecrets: [],
        namespaces: { input: ns },
        rolloutTimeoutSeconds: 120,
        rollbackOnFailure: true,
        prune: false,
        dryRun: false,
        annotations: {},
        applySet: (namespace) => applySetFor('bench-project', 'bench-definition', namespace),
      },
      {
        cluster: new Cluster(client),
        log: () => {},
        warn: () => {},
        progress: () => {},
        now: () => Date.now(),
      },
    );
    if (result.rolloutStatus !== 'Succeeded')
      throw new Error(`the core did not pass: ${result.rolloutStatus}`);
    return performance.now() - started;
  } finally {
    client.close();
    world.stop();
  }
}

async function task({ overlay = false } = {}) {
  const world = freshCluster();
  try {
    const run = await runTask({
      task: 'AksDeploy',
      inputs: {
        connectionType: 'kubernetesServiceConnection',
        kubernetesServiceConnection: 'k8s',
        manifests: overlay ? 'deploy/overlay' : 'k8s/*.yaml',
        namespace: ns,
        rolloutTimeout: '120',
      },
      endpoints: {
        k8s: {
          url: azure.url(world.cluster.host),
          scheme: 'Token',
          parameters: { apiToken: Buffer.from(token).toString('base64') },
          data: { authorizationType: 'ServiceAccount' },
        },
      },
      env: azure.env(),
      secrets: [token],
      timeoutMs: 180_000,
      prepare: (dirs) => writeFiles(dirs.sources, overlay ? kustomizeFiles : { 'k8s/app.yaml': manifest }),
    });
    if (run.result?.status !== 'Succeeded') throw new Error(`the task did not pass: ${run.result?.message}`);
    const applied = (run.outputVariables.get('appliedObjects')?.value ?? '').split('\n').filter(Boolean);
    if (applied.length !== objects)
      throw new Error(`the task applied ${applied.length} objects, not ${objects}`);
    if (overlay) {
      // The task's own measure of its render: spawn of kubectl kustomize to the objects read.
      const rendered = run.logLines.map((line) => /^Rendered .* in (\d+) ms$/.exec(line)).find(Boolean);
      if (!rendered) throw new Error('the task did not say what it rendered');
      samples.taskRender.push(Number(rendered[1]));
    }
    return run.durationMs;
  } finally {
    world.stop();
  }
}

const samples = {
  floor: [],
  task: [],
  taskOverlay: [],
  taskRender: [],
  sequential: [],
  core: [],
  kubectlStart: [],
  plainRead: [],
  render: [],
};
// Warm-up: the first process start, the first TLS handshakes and the first JIT are slower.
await task();
await task({ overlay: true });
await floor();
await sequential();
await core();
kubectlStart();
plainRead();
await render();
samples.taskRender.length = 0;

const renderPhases = { check: [], tool: [], read: [] };
for (let i = 0; i < runs; i++) {
  samples.floor.push(await floor());
  samples.task.push(await task());
  samples.taskOverlay.push(await task({ overlay: true }));
  samples.sequential.push(await sequential());
  samples.core.push(await core());
}
// Rendering has no cluster and takes a fraction of a second: more samples, alternating.
for (let i = 0; i < runs * 4; i++) {
  samples.kubectlStart.push(kubectlStart());
  samples.plainRead.push(plainRead());
  const { total, phases } = await render();
  samples.render.push(total);
  for (const [phase, ms] of Object.entries(phases)) renderPhases[phase].push(ms);
}
await azure.stop();
rmSync(renderDir, { recursive: true, force: true });

const metrics = {
  objects,
  workloads,
  taskMs: Math.round(median(samples.task)),
  floorMs: Math.round(median(samples.floor)),
  sequentialMs: Math.round(median(samples.sequential)),
  coreMs: Math.round(median(samples.core)),
  readyAfterMs,
  patches,
  taskOverlayMs: Math.round(median(samples.taskOverlay)),
  renderMs: Math.round(median(samples.render)),
  plainReadMs: Math.round(median(samples.plainRead)),
  kubectlStartMs: Math.round(median(samples.kubectlStart)),
  renderAddedMs: Math.round(median(samples.render) - median(samples.plainRead)),
  taskRenderMs: Math.round(median(samples.taskRender)),
  phases: {
    renderCheckMs: Math.round(median(renderPhases.check)),
    renderToolMs: Math.round(median(renderPhases.tool)),
    renderReadMs: Math.round(median(renderPhases.read)),
  },
};
const row = (name, ms, note) => `${name.padEnd(12)}${String(ms).padStart(8)} ms  ${note}`;
console.log(
  `deploy: ${objects} objects, ${workloads} Deployments ready ${readyAfterMs} ms after their pods start, median of ${runs} runs`,
);
console.log(row('floor', metrics.floorMs, 'one Deployment alone, apply to rolled out (in-process)'));
console.log(
  row('sequential', metrics.sequentialMs, 'apply all, then wait on each Deployment in turn (in-process)'),
);
console.log(row('core', metrics.coreMs, 'the task’s run() in-process, every rollout watched at once'));
console.log(row('task', metrics.taskMs, 'bundled task, spawn to exit, every rollout watched at once'));
console.log(
  `task / floor = ${(metrics.taskMs / metrics.floorMs).toFixed(3)} (goal ≤ 1.2: ${metrics.taskMs <= 1.2 * metrics.floorMs ? 'met' : 'not met'})`,
);
console.log(
  row(
    'taskOverlay',
    metrics.taskOverlayMs,
    `the same, from a Kustomize base and an overlay of ${patches} patches (its render: ${metrics.taskRenderMs} ms)`,
  ),
);
console.log(
  `render: ${objects} objects from a base and an overlay of ${patches} patches, median of ${runs * 4} runs`,
);
console.log(row('kubectl', metrics.kubectlStartMs, 'kubectl version --client, spawn to exit'));
console.log(row('plainRead', metrics.plainReadMs, 'the task reading the objects from plain files'));
console.log(
  row(
    'render',
    metrics.renderMs,
    `the task rendering the overlay (check ${metrics.phases.renderCheckMs}, kubectl kustomize ${metrics.phases.renderToolMs}, reading ${metrics.phases.renderReadMs})`,
  ),
);
console.log(
  `render added ${metrics.renderAddedMs} ms; kubectl start × 1.2 = ${Math.round(1.2 * metrics.kubectlStartMs)} ms (goal: ${metrics.renderAddedMs <= 1.2 * metrics.kubectlStartMs ? 'met' : 'not met'})`,
);
console.log(JSON.stringify({ bench: 'deploy', node: process.version, runs, metrics }));
