// Bundles every task under tasks/ into dist/tasks/<Task>/: one CommonJS file per task
// (index.js), its task.json with the shared messages merged in, and its icon.
// Nothing from node_modules is copied; the bundle carries what it uses.
import * as esbuild from 'esbuild';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tasksDir = join(root, 'tasks');
const outRoot = join(root, 'dist', 'tasks');
const sharedMessages = JSON.parse(readFileSync(join(tasksDir, 'shared', 'messages.json'), 'utf8'));

/** Task folders are the ones that hold a task.json. */
export function taskNames() {
  return readdirSync(tasksDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(tasksDir, entry.name, 'task.json')))
    .map((entry) => entry.name)
    .sort();
}

async function buildTask(name) {
  const source = join(tasksDir, name);
  // Build beside the final folder and swap it in at the end, so a test running a task
  // while another process rebuilds never finds a half-written folder.
  const final = join(outRoot, name);
  const out = `${final}.building-${process.pid}`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const result = await esbuild.build({
    entryPoints: [join(source, 'index.ts')],
    // Runs before the entry file and task-lib, so that task-lib's start-up failures are caught.
    inject: [join(tasksDir, 'shared', 'task-start.ts')],
    outfile: join(out, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    // Minified, but with function and class names kept: a stack trace in debug output
    // then names `readConfig`, not `ls`.
    keepNames: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  assertSingleTaskLib(name, result.metafile);

  const taskJson = JSON.parse(readFileSync(join(source, 'task.json'), 'utf8'));
  const clash = Object.keys(taskJson.messages ?? {}).filter((key) => key in sharedMessages);
  if (clash.length > 0)
    throw new Error(`${name}/task.json redefines shared message keys: ${clash.join(', ')}`);
  taskJson.messages = { ...sharedMessages, ...taskJson.messages };
  writeFileSync(join(out, 'task.json'), JSON.stringify(taskJson, null, 2) + '\n');
  copyFileSync(join(source, 'icon.png'), join(out, 'icon.png'));

  // Other execution targets (a pre-job entry, say) run the same bundle: the entry
  // tells them apart by `require.main`, so one copy of the code ships per task.
  const targets = new Set(
    ['prejobexecution', 'execution', 'postjobexecution'].flatMap((phase) =>
      Object.values(taskJson[phase] ?? {}).map((handler) => handler.target),
    ),
  );
  for (const target of targets) {
    if (target !== 'index.js') writeFileSync(join(out, target), "'use strict';\nrequire('./index.js');\n");
  }
  const previous = `${final}.previous-${process.pid}`;
  if (existsSync(final)) renameSync(final, previous);
  renameSync(out, final);
  rmSync(previous, { recursive: true, force: true });
  return { name, bytes: result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes };
}

// Two copies of task-lib would keep two secret vaults and two sets of loaded messages.
function assertSingleTaskLib(name, metafile) {
  const copies = new Set(
    Object.keys(metafile.inputs)
      .filter((input) => /node_modules\/azure-pipelines-task-lib\/task\.js$/.test(input))
      .map((input) => input.replace(/task\.js$/, '')),
  );
  if (copies.size !== 1) {
    throw new Error(
      `${name}: expected one copy of azure-pipelines-task-lib, found ${copies.size}: ${[...copies]}`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await Promise.all(taskNames().map(buildTask));
  for (const { name, bytes } of built) console.log(`built ${name}: ${(bytes / 1024).toFixed(0)} KiB`);
}
