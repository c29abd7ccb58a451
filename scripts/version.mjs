// Bumps the extension's version and every task's version together:
//
//   npm run version -- patch|minor|major [--root <dir>]
//
// The rule. The extension is versioned semver-style in package.json (kept in step in
// package-lock.json and vss-extension.json). A task's Major is its public major, the
// `@1` in `KeyVaultSecrets@1`: pipelines pin it, so this script never changes it
// (a breaking task change is a new task major, made by hand, side by side with the old).
// The extension's bump is mapped onto each task's Minor and Patch instead:
//   patch → task Patch + 1
//   minor → task Minor + 1, Patch 0
//   major → task Minor + 1, Patch 0 (the extension's major says nothing about a task's)
// Every release must raise every task's version: agents cache a task by its version,
// so a changed bundle under an unchanged version would never reach them.
//
// Files are edited in place, touching only their version fields, so formatting stays.
// Every edit is worked out before the first file is written, so a file the script
// cannot read leaves nothing half-bumped.
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const bumps = ['patch', 'minor', 'major'];

/** The semver string `version` raised by `bump`. */
export function bumpVersion(version, bump) {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new Error(`Version '${version}' is not major.minor.patch.`);
  const [major, minor, patch] = match.slice(1).map(Number);
  if (bump === 'major') return `${major + 1}.0.0`;
  if (bump === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

/** A task.json `version` object raised by the extension's `bump`, keeping its Major. */
export function bumpTaskVersion({ Major, Minor, Patch }, bump) {
  return bump === 'patch' ? { Major, Minor, Patch: Patch + 1 } : { Major, Minor: Minor + 1, Patch: 0 };
}

function replaceOnce(file, text, pattern, replacement) {
  if (!pattern.test(text)) throw new Error(`${file}: no version field found (${pattern}).`);
  return text.replace(pattern, replacement);
}

// The top-level "version" of a JSON file formatted with two-space indentation.
const topLevelVersion = /^( {2}"version": *")[^"]*(")/m;

function bumpExtensionFiles(root, bump, writes) {
  const packageJsonPath = join(root, 'package.json');
  const packageText = readFileSync(packageJsonPath, 'utf8');
  const from = JSON.parse(packageText).version;
  const to = bumpVersion(from, bump);
  writes.set(packageJsonPath, replaceOnce('package.json', packageText, topLevelVersion, `$1${to}$2`));

  const lockPath = join(root, 'package-lock.json');
  if (existsSync(lockPath)) {
    let lock = replaceOnce('package-lock.json', readFileSync(lockPath, 'utf8'), topLevelVersion, `$1${to}$2`);
    // The root package's own entry, packages[""], carries the version a second time.
    lock = replaceOnce(
      'package-lock.json',
      lock,
      /("packages": *\{\s*"": *\{[^{}]*?"version": *")[^"]*(")/,
      `$1${to}$2`,
    );
    writes.set(lockPath, lock);
  }

  const manifestPath = join(root, 'vss-extension.json');
  if (existsSync(manifestPath)) {
    const manifest = readFileSync(manifestPath, 'utf8');
    writes.set(manifestPath, replaceOnce('vss-extension.json', manifest, topLevelVersion, `$1${to}$2`));
  }
  return { from, to };
}

function bumpTasks(root, bump, writes) {
  const tasksDir = join(root, 'tasks');
  const taskJsonPaths = readdirSync(tasksDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(tasksDir, entry.name, 'task.json'))
    .filter((path) => existsSync(path))
    .sort();
  return taskJsonPaths.map((path) => {
    const text = readFileSync(path, 'utf8');
    const task = JSON.parse(text);
    const to = bumpTaskVersion(task.version, bump);
    // task.json has a single "version" object, and it holds plain numbers.
    const updated = replaceOnce(
      path,
      text,
      /("version": *\{[^{}]*?"Minor": *)\d+([^{}]*?"Patch": *)\d+/,
      `$1${to.Minor}$2${to.Patch}`,
    );
    if (JSON.stringify(JSON.parse(updated).version) !== JSON.stringify(to)) {
      throw new Error(`${path}: expected "version" with Major, Minor, Patch in that order.`);
    }
    writes.set(path, updated);
    return { name: task.name, from: task.version, to };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { root: { type: 'string' } },
    allowPositionals: true,
  });
  const bump = positionals[0];
  if (positionals.length !== 1 || !bumps.includes(bump)) {
    console.error(`Usage: npm run version -- ${bumps.join('|')}`);
    process.exit(2);
  }
  const root = resolve(values.root ?? here);
  const writes = new Map();
  const extension = bumpExtensionFiles(root, bump, writes);
  const tasks = bumpTasks(root, bump, writes);
  for (const [path, text] of writes) writeFileSync(path, text);
  console.log(`extension ${extension.from} → ${extension.to}`);
  const show = (v) => `${v.Major}.${v.Minor}.${v.Patch}`;
  for (const task of tasks) {
    console.log(`${task.name}@${task.to.Major} ${show(task.from)} → ${show(task.to)}`);
  }
}
