// `npm run bench -- promote` (or `node bench/promote.mjs`): AcrPromoteImage@1 against
// `skopeo copy --all --preserve-digests`, in the same run, alternating, on the same two
// real registries (Debian's docker-registry on loopback with TLS from a per-run CA), with
// a multi-arch image of about 300 MB whose platforms share their base layers.
//   cold   a fresh, empty target registry (new storage folder) for every run of either tool,
//          so neither tool's cache can turn the copy into a mount
//   warm   the same copy again onto a target that has everything
//   mount  the same registry, another repository (blobs mounted, not moved)
// Both tools talk straight to the registries (no ACR front: skopeo cannot resolve the
// emulated *.azure.test names), anonymously, over the same TLS. The task is the bundle
// (dist/tasks/AcrPromoteImage) spawned by the agent harness on Node 20; its wall time
// includes process start. Bytes moved are what the target's storage grew by (cold) or what
// the task reports uploading; requests come from the task's summary and skopeo's --debug log.
// Prints a table, then, as its last line, one JSON object (see ../shared/design/benchmarks.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/cjs/api';
import { buildTasks, median } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
register();

const runs = Number(process.env.BENCH_RUNS ?? 3);
const mib = 1024 * 1024;

const { createTestCertificateAuthority } = require('../test/emulators/certificates.ts');
const { startRegistry } = require('../test/emulators/registry.ts');
const {
  imageIndex,
  imageManifest,
  randomLayer,
  allBlobs,
  commonPlatforms,
} = require('../test/oci/content.ts');
const { pushImage, closeSeedConnections } = require('../test/oci/push.ts');
const { runTask } = require('../test/harness/agent.ts');

buildTasks();
// A private copy of the bundle, so a rebuild elsewhere cannot pull it away mid-run.
const work = mkdtempSync(join(tmpdir(), 'bench-promote-'));
const taskFolder = join(work, 'AcrPromoteImage');
spawnSync('cp', ['-r', join(root, 'dist', 'tasks', 'AcrPromoteImage'), taskFolder]);

// Peak RSS of the task process: a preload that writes it when the process exits.
const rssFile = join(work, 'rss.txt');
const rssProbe = join(work, 'rss-probe.cjs');
writeFileSync(
  rssProbe,
  // VmHWM, not resourceUsage().maxRSS: Linux carries a parent's peak across fork and exec,
  // and this process holds the whole image in memory.
  // CPU time too: on a shared two-core machine it is steadier than wall time.
  "process.on('exit', () => { const fs = require('node:fs');" +
    " const kb = /VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1];" +
    ' const usage = process.resourceUsage();' +
    ` fs.writeFileSync(${JSON.stringify(rssFile)}, JSON.stringify({ rss: Number(kb) * 1024,` +
    ' cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 })); });\n',
);

const ca = await createTestCertificateAuthority();
const source = await startRegistry(ca);

// About 300 MB: three base layers every platform shares (100 MB), and 100 MB of its own per platform.
console.error('building and seeding a ~300 MB two-platform image...');
const shared = [60, 30, 10].map((size) => randomLayer(size * mib));
const image = imageIndex(
  'oci',
  commonPlatforms.map((platform) =>
    imageManifest({
      format: 'oci',
      platform,
      layers: [...shared, ...[70, 30].map((size) => randomLayer(size * mib))],
      label: platform.architecture,
    }),
  ),
);
const imageBytes = allBlobs(image).reduce((sum, blob) => sum + blob.size, 0);
await pushImage({ baseUrl: source.url, caPem: ca.caPem }, 'bench/app', image, ['1.0']);
closeSeedConnections();

const endpoint = {
  url: 'https://management.azure.com/',
  scheme: 'ServicePrincipal',
  parameters: {
    tenantid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    serviceprincipalid: 'bench-client',
    serviceprincipalkey: 'bench-unused-secret',
    authenticationType: 'spnKey',
  },
  data: { environment: 'AzureCloud' },
};

async function taskCopy(target, targetRepository) {
  rmSync(rssFile, { force: true });
  const run = await runTask({
    task: taskFolder,
    node: 'node20',
    inputs: {
      sourceConnection: 'bench',
      sourceRegistry: source.host,
      sourceImage: 'bench/app:1.0',
      targetRegistry: target.host,
      targetRepository,
      overwriteTags: 'true',
    },
    endpoints: { bench: endpoint },
    env: { NODE_EXTRA_CA_CERTS: ca.caFile, NODE_OPTIONS: `--require ${rssProbe}` },
    timeoutMs: 600_000,
  });
  if (run.result?.status !== 'Succeeded') throw new Error(`task failed: ${run.log}`);
  const summary = run.summaries.map((each) => each.content).join('\n');
  const copied = /\| Copied \| \d+ \| [^|]+\|/.exec(summary);
  const promoted = /Promoted .*?: (\d+) blobs copied \((\d+) bytes\)/.exec(run.log);
  const probe = JSON.parse(readFileSync(rssFile, 'utf8'));
  return {
    ms: run.durationMs,
    blobBytes: promoted ? Number(promoted[2]) : NaN,
    requests: Number(/Requests: (\d+)/.exec(summary)?.[1] ?? NaN),
    peakRssBytes: probe.rss,
    cpuMs: probe.cpuMs,
    copied: copied?.[0],
  };
}

function skopeoCopy(target, targetRepository) {
  const started = performance.now();
  const result = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'maxrss=%M cpu=%U+%S',
      'skopeo',
      '--insecure-policy',
      '--debug',
      'copy',
      '--all',
      '--preserve-digests',
      '--src-cert-dir',
      source.certDir,
      '--dest-cert-dir',
      target.certDir,
      `docker://${source.host}/bench/app:1.0`,
      `docker://${target.host}/${targetRepository}:1.0`,
    ],
    { encoding: 'utf8', maxBuffer: 256 * mib },
  );
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`skopeo failed: ${result.stderr.slice(-2000)}`);
  const log = result.stdout + result.stderr;
  const cpu = /cpu=([\d.]+)\+([\d.]+)/.exec(log);
  return {
    ms,
    requests: (log.match(/(?:GET|HEAD|PUT|POST|PATCH) https:\/\//g) ?? []).length,
    peakRssBytes: Number(/maxrss=(\d+)/.exec(log)?.[1] ?? NaN) * 1024,
    cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN,
  };
}

function storedBlobBytes(registry) {
  const blobs = join(registry.storageDir, 'docker', 'registry', 'v2', 'blobs');
  let total = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name === 'data') total += statSync(path).size;
    }
  };
  try {
    walk(blobs);
  } catch {
    return 0;
  }
  return total;
}

const samples = {
  taskCold: [],
  skopeoCold: [],
  taskWarm: [],
  skopeoWarm: [],
  taskMount: [],
  skopeoMount: [],
};

// Warm-up: one task run and one skopeo run, not counted (file caches, first TLS handshakes).
{
  const scratch = await startRegistry(ca);
  await taskCopy(scratch, 'warmup/task');
  skopeoCopy(scratch, 'warmup/skopeo');
  await scratch.stop();
}

for (let i = 0; i < runs; i++) {
  for (const tool of i % 2 === 0 ? ['task', 'skopeo'] : ['skopeo', 'task']) {
    console.error(`run ${i + 1}/${runs}: ${tool}`);
    const target = await startRegistry(ca);
    const repository = 'prod/app';
    const cold = tool === 'task' ? await taskCopy(target, repository) : skopeoCopy(target, repository);
    cold.storedBytes = storedBlobBytes(target);
    const before = storedBlobBytes(target);
    const warm = tool === 'task' ? await taskCopy(target, repository) : skopeoCopy(target, repository);
    warm.storedBytes = storedBlobBytes(target) - before;
    await target.stop();
    const mountBefore = storedBlobBytes(source);
    const mountRepository = `mount/${tool}${i}`;
    const mount =
      tool === 'task' ? await taskCopy(source, mountRepository) : skopeoCopy(source, mountRepository);
    mount.storedBytes = storedBlobBytes(source) - mountBefore;
    samples[`${tool}Cold`].push(cold);
    samples[`${tool}Warm`].push(warm);
    samples[`${tool}Mount`].push(mount);
  }
}
await source.stop();
ca.dispose();
rmSync(work, { recursive: true, force: true });

const m = (key, field) => median(samples[key].map((sample) => sample[field]));
const rows = [];
for (const mode of ['Cold', 'Warm', 'Mount']) {
  for (const tool of ['task', 'skopeo']) {
    const key = `${tool}${mode}`;
    rows.push({
      mode: mode.toLowerCase(),
      tool: tool === 'task' ? 'AcrPromoteImage@1' : 'skopeo copy --all --preserve-digests',
      wallMs: Math.round(m(key, 'ms')),
      storedMiB: (m(key, 'storedBytes') / mib).toFixed(1),
      uploadedMiB: tool === 'task' ? (m(key, 'blobBytes') / mib).toFixed(1) : '-',
      requests: m(key, 'requests'),
      cpuMs: Math.round(m(key, 'cpuMs')),
      peakRssMiB: (m(key, 'peakRssBytes') / mib).toFixed(0),
    });
  }
}
console.log(`image: ${(imageBytes / mib).toFixed(0)} MiB of blobs, 2 platforms, ${runs} runs each, medians`);
console.table(rows);
console.log(
  JSON.stringify({
    bench: 'promote',
    node: process.version,
    runs,
    metrics: {
      imageBytes,
      coldMs: Math.round(m('taskCold', 'ms')),
      skopeoColdMs: Math.round(m('skopeoCold', 'ms')),
      coldCpuMs: Math.round(m('taskCold', 'cpuMs')),
      skopeoColdCpuMs: Math.round(m('skopeoCold', 'cpuMs')),
      warmMs: Math.round(m('taskWarm', 'ms')),
      skopeoWarmMs: Math.round(m('skopeoWarm', 'ms')),
      warmBlobBytes: m('taskWarm', 'blobBytes'),
      mountMs: Math.round(m('taskMount', 'ms')),
      skopeoMountMs: Math.round(m('skopeoMount', 'ms')),
      mountBlobBytes: m('taskMount', 'blobBytes'),
      coldRequests: m('taskCold', 'requests'),
      skopeoColdRequests: m('skopeoCold', 'requests'),
      peakRssBytes: Math.max(
        ...['taskCold', 'taskWarm', 'taskMount'].flatMap((key) => samples[key].map((s) => s.peakRssBytes)),
      ),
      skopeoPeakRssBytes: Math.max(
        ...['skopeoCold', 'skopeoWarm', 'skopeoMount'].flatMap((key) =>
          samples[key].map((s) => s.peakRssBytes),
        ),
      ),
    },
  }),
);
