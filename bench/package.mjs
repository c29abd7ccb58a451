// `npm run bench -- package`: how big the vsix and its bundles are, and how long each
// packaged task takes to start on Node 20 and Node 24.
//
// It builds, packages (prod variant) into .bench/package/, unpacks the vsix, and runs
// each task's entry from the unpacked folder as the agent does: `node <task>/index.js`
// with no inputs. Start time is spawn to the first `##vso[` line on stdout (task-lib
// writes one as soon as it is loaded, so this is the cost of loading the bundle). Each
// task is run once per Node as a warm-up, then `runs` times, alternating Node 20 and
// Node 24; medians are reported. Goals: vsix ≤ 3 MB, start ≤ 250 ms. Nothing is asserted.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import JSZip from 'jszip';
import { ensureNode24 } from '../scripts/node24.mjs';
import { createVsix, packageOptions } from '../scripts/package.mjs';
import { median } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, '.bench', 'package');
const runs = 10;
const goals = { vsixBytes: 3 * 1024 * 1024, startMs: 250 };
const nodes = {
  node20: process.execPath,
  node24: ensureNode24(),
};
const timeoutMs = 30_000;

function versionOf(nodeBin) {
  return spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

async function unpack(vsix, into) {
  const zip = await JSZip.loadAsync(readFileSync(vsix));
  for (const entry of Object.values(zip.files)) {
    const target = join(into, entry.name);
    if (entry.dir) continue;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, await entry.async('nodebuffer'));
  }
}

/** Spawns one task run; resolves with ms to the first `##vso[` line and ms to exit. */
function timeStart(nodeBin, taskDir, agentTemp) {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, AGENT_TEMPDIRECTORY: agentTemp };
    const started = performance.now();
    // stdout is read to the end: closing it early makes the task's own error handler
    // fail on every write, and it never exits.
    const child = spawn(nodeBin, [join(taskDir, 'index.js')], { cwd: agentTemp, env, stdio: 'pipe' });
    let firstVsoMs;
    let seen = '';
    child.stdout.on('data', (chunk) => {
      if (firstVsoMs !== undefined) return;
      seen += chunk.toString('utf8');
      if (/(^|\n)##vso\[/.test(seen)) firstVsoMs = performance.now() - started;
    });
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const exitMs = performance.now() - started;
      if (firstVsoMs === undefined) reject(new Error(`${taskDir}: no ##vso line on stdout`));
      else resolve({ firstVsoMs, exitMs });
    });
  });
}

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const ms = (value) => `${value.toFixed(0)} ms`;
const round = (value) => Math.round(value * 10) / 10;

// Build and package, as `npm run package` does (without its type-check).
rmSync(outDir, { recursive: true, force: true });
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (build.status !== 0) process.exit(build.status ?? 1);
const manifest = JSON.parse(readFileSync(join(root, 'vss-extension.json'), 'utf8'));
const vsix = createVsix({ ...packageOptions([], {}, manifest), outDir });
const unpacked = join(outDir, 'unpacked');
await unpack(vsix, unpacked);
const vsixBytes = statSync(vsix).size;

const vsoManifest = JSON.parse(readFileSync(join(unpacked, 'extension.vsomanifest'), 'utf8'));
const tasks = vsoManifest.contributions.map((contribution) => contribution.properties.name);
const bundleBytes = Object.fromEntries(
  tasks.map((task) => [task, statSync(join(unpacked, task, 'index.js')).size]),
);

const agentTemp = mkdtempSync(join(tmpdir(), 'bench-package-'));
const samples = Object.fromEntries(
  tasks.map((task) => [task, { node20: { start: [], exit: [] }, node24: { start: [], exit: [] } }]),
);
try {
  for (const task of tasks) {
    for (const nodeBin of Object.values(nodes)) await timeStart(nodeBin, join(unpacked, task), agentTemp);
  }
  for (let run = 0; run < runs; run++) {
    for (const task of tasks) {
      for (const [node, nodeBin] of Object.entries(nodes)) {
        const { firstVsoMs, exitMs } = await timeStart(nodeBin, join(unpacked, task), agentTemp);
        samples[task][node].start.push(firstVsoMs);
        samples[task][node].exit.push(exitMs);
      }
    }
  }
} finally {
  rmSync(agentTemp, { recursive: true, force: true });
}

const rows = tasks.map((task) => ({
  task,
  bundle: bundleBytes[task],
  startNode20: median(samples[task].node20.start),
  startNode24: median(samples[task].node24.start),
  exitNode20: median(samples[task].node20.exit),
  exitNode24: median(samples[task].node24.exit),
}));
const slowest = (key) => Math.max(...rows.map((row) => row[key]));
const verdict = (value, goal) => (value <= goal ? 'meets' : 'MISSES');

console.log(
  `Node 20: ${versionOf(nodes.node20)}   Node 24: ${versionOf(nodes.node24)}   runs: ${runs} (medians)`,
);
console.log('');
console.log(
  ['task'.padEnd(18), 'bundle'.padStart(9), 'start n20', 'start n24', 'exit n20', 'exit n24']
    .map((cell, i) => (i < 2 ? cell : cell.padStart(10)))
    .join('  '),
);
for (const row of rows) {
  console.log(
    [
      row.task.padEnd(18),
      kib(row.bundle).padStart(9),
      ...[row.startNode20, row.startNode24, row.exitNode20, row.exitNode24].map((v) => ms(v).padStart(10)),
    ].join('  '),
  );
}
console.log('');
console.log(
  `vsix ${kib(vsixBytes)} (${vsixBytes} bytes): ${verdict(vsixBytes, goals.vsixBytes)} the 3 MB goal`,
);
for (const node of ['node20', 'node24']) {
  const key = node === 'node20' ? 'startNode20' : 'startNode24';
  console.log(
    `slowest start on ${node}: ${ms(slowest(key))}: ${verdict(slowest(key), goals.startMs)} the 250 ms goal`,
  );
}
if (tasks.length < 4)
  console.log(`(${tasks.length} of the 4 tasks exist so far; the vsix goal is for all four.)`);

console.log(
  JSON.stringify({
    bench: 'package',
    node: process.version,
    runs,
    metrics: {
      vsixBytes,
      largestBundleBytes: Math.max(...Object.values(bundleBytes)),
      startMsNode20: round(slowest('startNode20')),
      startMsNode24: round(slowest('startNode24')),
      exitMsNode20: round(slowest('exitNode20')),
      exitMsNode24: round(slowest('exitNode24')),
      totalBundleBytes: Object.values(bundleBytes).reduce((sum, bytes) => sum + bytes, 0),
      tasks: tasks.length,
    },
  }),
);
