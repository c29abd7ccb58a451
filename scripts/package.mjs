// Packages the built tasks into dist/<publisher>.<id>-<version>.vsix with tfx, offline.
//
// vss-extension.json holds what never changes. The task contributions and the task
// folders are generated here from taskNames(), so a new task ships once its folder
// exists. Everything that goes into the vsix is first laid out in a staging folder,
// dist/vsix/<publisher>.<id>/, which is tfx's --root: only the built bundles (never
// the TypeScript sources or node_modules), the icon, overview.md and LICENSE.
//
//   node scripts/package.mjs [--publisher <id>] [--variant <name>] [--out-dir <dir>]
//
// The environment variables EXTENSION_PUBLISHER and EXTENSION_VARIANT do the same;
// the flags win. A variant other than "prod" suffixes the extension id ("-dev") and
// name (" (dev)"), and gives every task a new GUID derived from its prod GUID, so
// both extensions can be installed in one organisation side by side.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { taskNames } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const distDir = join(root, 'dist');
const prodVariant = 'prod';

/**
 * Reads the publisher and variant from the command line, then the environment, then
 * the manifest's defaults, and the output folder (default dist/). Throws on a value
 * the Marketplace would refuse.
 */
export function packageOptions(argv, env, defaults) {
  const { values } = parseArgs({
    args: argv,
    options: { publisher: { type: 'string' }, variant: { type: 'string' }, 'out-dir': { type: 'string' } },
    strict: true,
  });
  const publisher = values.publisher ?? (env.EXTENSION_PUBLISHER || defaults.publisher);
  const variant = (values.variant ?? (env.EXTENSION_VARIANT || prodVariant)).toLowerCase();
  // The Marketplace's rule for publisher ids: letters, digits and dashes.
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(publisher)) {
    throw new Error(`Publisher '${publisher}' is not a Marketplace publisher id (letters, digits and -).`);
  }
  if (!/^[a-z][a-z0-9]*$/.test(variant)) {
    throw new Error(`Variant '${variant}' must be a short lower-case word such as dev or prod.`);
  }
  return { publisher, variant, outDir: resolve(values['out-dir'] ?? distDir) };
}

/** RFC 4122 §4.3 name-based UUID (version 5, SHA-1) of `name` within `namespace`. */
export function uuidV5(namespace, name) {
  const namespaceBytes = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (namespaceBytes.length !== 16) throw new Error(`Not a UUID: ${namespace}`);
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest().subarray(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The task.json a variant ships: prod's unchanged; any other variant gets a GUID of
 * its own (stable across builds, so pipelines keep resolving it) and a name that
 * says which variant it is in the task assistant.
 */
export function variantTaskJson(taskJson, variant) {
  if (variant === prodVariant) return taskJson;
  return {
    ...taskJson,
    id: uuidV5(taskJson.id, variant),
    friendlyName: `${taskJson.friendlyName} (${variant})`,
  };
}

/**
 * The Marketplace page's links, from package.json: the repository (also the manifest's
 * `repository`), where to report problems (`bugs`), and where to get started (`homepage`).
 */
export function marketplaceLinks(packageJson) {
  const repository = packageJson.repository?.url;
  return {
    ...(repository ? { repository } : {}),
    links: {
      ...(packageJson.homepage ? { getstarted: { uri: packageJson.homepage } } : {}),
      ...(packageJson.bugs?.url ? { support: { uri: packageJson.bugs.url } } : {}),
      ...(repository ? { repository: { uri: repository } } : {}),
    },
  };
}

/** The full manifest tfx packages: the static one plus identity, version, links and one contribution per task. */
export function extensionManifest(base, { publisher, variant, version, tasks, repository, links = {} }) {
  const suffixed = variant !== prodVariant;
  return {
    ...base,
    publisher,
    id: suffixed ? `${base.id}-${variant}` : base.id,
    name: suffixed ? `${base.name} (${variant})` : base.name,
    version,
    ...(repository ? { repository: { type: 'git', uri: repository } } : {}),
    links: { ...base.links, ...links },
    // overview.md and LICENSE come in through content.details and content.license; listing
    // them again under files would strip their asset types.
    files: [
      ...base.files,
      ...screenshots().map((image) => ({ path: `images/${image}`, addressable: true })),
      ...tasks.map((task) => ({ path: task })),
    ],
    contributions: tasks.map((task) => ({
      id: task,
      type: 'ms.vss-distributed-task.task',
      targets: ['ms.vss-distributed-task.tasks'],
      properties: { name: task },
    })),
  };
}

/** The committed screenshots of each task's summary (npm run screenshots), relative to images/. */
export function screenshots() {
  const folder = join(root, 'images', 'screenshots');
  return existsSync(folder)
    ? readdirSync(folder)
        .filter((file) => file.endsWith('.png'))
        .sort()
        .map((file) => `screenshots/${file}`)
    : [];
}

/** Lays out the staging folder for `options`, runs tfx on it, and returns the vsix path. */
export function createVsix(options) {
  const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
  const base = readJson(join(root, 'vss-extension.json'));
  const packageJson = readJson(join(root, 'package.json'));
  const tasks = taskNames();
  const notBuilt = tasks.filter((task) => !existsSync(join(distDir, 'tasks', task, 'task.json')));
  if (notBuilt.length > 0) throw new Error(`Not built: ${notBuilt.join(', ')}. Run npm run build first.`);

  const identity = extensionManifest(base, { ...options, version: packageJson.version, tasks: [] });
  const stagingDir = join(options.outDir, 'vsix', `${identity.publisher}.${identity.id}`);
  rmSync(stagingDir, { recursive: true, force: true });
  mkdirSync(stagingDir, { recursive: true });
  for (const task of tasks) {
    const target = join(stagingDir, task);
    cpSync(join(distDir, 'tasks', task), target, { recursive: true });
    const taskJson = variantTaskJson(readJson(join(target, 'task.json')), options.variant);
    writeFileSync(join(target, 'task.json'), JSON.stringify(taskJson, null, 2) + '\n');
  }
  mkdirSync(join(stagingDir, 'images', 'screenshots'), { recursive: true });
  // The icon, and the pictures overview.md shows (addressable in vss-extension.json).
  for (const image of ['icon.png', 'pipeline-flow.png', ...screenshots()]) {
    copyFileSync(join(root, 'images', image), join(stagingDir, 'images', image));
  }
  copyFileSync(join(root, 'overview.md'), join(stagingDir, 'overview.md'));
  copyFileSync(join(root, 'LICENSE'), join(stagingDir, 'LICENSE'));

  const manifest = extensionManifest(base, {
    ...options,
    version: packageJson.version,
    tasks,
    ...marketplaceLinks(packageJson),
  });
  writeFileSync(join(stagingDir, 'vss-extension.json'), JSON.stringify(manifest, null, 2) + '\n');

  const vsix = join(options.outDir, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
  rmSync(vsix, { force: true });
  const tfx = join(root, 'node_modules', 'tfx-cli', '_build', 'tfx-cli.js');
  // tfx packages locally and needs no sign-in; --no-prompt makes any question an error
  // instead of a hang in CI.
  execFileSync(
    process.execPath,
    [
      tfx,
      'extension',
      'create',
      '--root',
      stagingDir,
      '--manifests',
      join(stagingDir, 'vss-extension.json'),
      '--output-path',
      vsix,
      '--no-prompt',
      '--no-color',
    ],
    { cwd: stagingDir, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (!existsSync(vsix)) throw new Error(`tfx finished but wrote no ${relative(root, vsix)}.`);
  return vsix;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const defaults = JSON.parse(readFileSync(join(root, 'vss-extension.json'), 'utf8'));
    const options = packageOptions(process.argv.slice(2), process.env, defaults);
    const vsix = createVsix(options);
    const bytes = statSync(vsix).size;
    console.log(`${relative(process.cwd(), vsix)} (${(bytes / 1024).toFixed(0)} KiB, ${bytes} bytes)`);
  } catch (error) {
    console.error(`package: ${error.stderr?.toString() || error.message}`);
    process.exitCode = 1;
  }
}
