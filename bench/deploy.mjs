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
// Prints a table, then, as its last line, one JSON object (see ../shared/design/benchmarks.md).
import { writeFileSync, mkdirSync } from 'node:fs';
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

async function task() {
  const world = freshCluster();
  try {
    const run = await runTask({
      task: 'AksDeploy',
      inputs: {
        connectionType: 'kubernetesServiceConnection',
        kubernetesServiceConnection: 'k8s',
        manifests: 'k8s/*.yaml',
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
      prepare: (dirs) => {
        mkdirSync(join(dirs.sources, 'k8s'), { recursive: true });
        writeFileSync(join(dirs.sources, 'k8s', 'app.yaml'), manifest);
      },
    });
    if (run.result?.status !== 'Succeeded') throw new Error(`the task did not pass: ${run.result?.message}`);
    const applied = (run.outputVariables.get('appliedObjects')?.value ?? '').split('\n').filter(Boolean);
    if (applied.length !== objects)
      throw new Error(`the task applied ${applied.length} objects, not ${objects}`);
    return run.durationMs;
  } finally {
    world.stop();
  }
}

// Warm-up: the first process start, the first TLS handshakes and the first JIT are slower.
await task();
await floor();
await sequential();
await core();

const samples = { floor: [], task: [], sequential: [], core: [] };
for (let i = 0; i < runs; i++) {
  samples.floor.push(await floor());
  samples.task.push(await task());
  samples.sequential.push(await sequential());
  samples.core.push(await core());
}
await azure.stop();

const metrics = {
  objects,
  workloads,
  taskMs: Math.round(median(samples.task)),
  floorMs: Math.round(median(samples.floor)),
  sequentialMs: Math.round(median(samples.sequential)),
  coreMs: Math.round(median(samples.core)),
  readyAfterMs,
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
console.log(JSON.stringify({ bench: 'deploy', node: process.version, runs, metrics }));
