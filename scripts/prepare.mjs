// Runs first in `npm run demo` and `npm test` (their pre scripts) and prepares what a fresh
// clone lacks: the npm packages, the Debian packages, and for the tests Node 24. It prints
// one line per thing it does and nothing when all is present; where it cannot prepare
// something, it says in one line what to run, and exits 1.
//
//   node scripts/prepare.mjs demo|test
//
// Node's standard library only: it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode24, node24Path } from './node24.mjs';

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));

/** What each command needs besides the npm packages and the system packages. */
export const commands = {
  demo: { node24: false },
  test: { node24: true },
};

/**
 * Whether node_modules holds what package-lock.json locks. npm records what it installed
 * in node_modules/.package-lock.json; the two must list the same packages at the same
 * versions. That is compared, rather than a hash of package-lock.json kept in a stamp
 * file, because npm writes this record on every install, however it was started: a
 * stamp would miss an `npm install` run by hand. Optional packages npm skipped (those for
 * other platforms) may be absent, and every package listed must still have its folder.
 *
 * `lock` and `installed` are the parsed files (`installed` undefined when there is none);
 * `present(path)` says whether a package folder such as `node_modules/yaml` exists.
 * Returns `{ state: 'fresh' }`, `{ state: 'absent' }` or `{ state: 'stale', reason }`.
 */
export function npmInstallState({ lock, installed, present }) {
  if (!installed) return { state: 'absent' };
  const locked = lock.packages ?? {};
  const have = installed.packages ?? {};
  const name = (path) => path.replace(/^.*node_modules\//, '');
  for (const [path, entry] of Object.entries(locked)) {
    if (path === '') continue; // the project itself
    const got = have[path];
    if (!got) {
      if (entry.optional) continue;
      return { state: 'stale', reason: `${name(path)} ${entry.version} is not installed` };
    }
    if (got.version !== entry.version) {
      return {
        state: 'stale',
        reason: `${name(path)} is ${got.version}, package-lock.json locks ${entry.version}`,
      };
    }
  }
  for (const path of Object.keys(have)) {
    if (!(path in locked)) return { state: 'stale', reason: `${name(path)} is installed but not locked` };
    if (!present(path)) return { state: 'stale', reason: `${name(path)} is recorded but its folder is gone` };
  }
  return { state: 'fresh' };
}

/**
 * The steps that prepare `command`, in order, from what is known of the machine:
 * - `npm`: npmInstallState's answer; `linkedTo`: where node_modules links to, when it is a
 *   symbolic link (npm ci would empty that folder, which another checkout may use),
 * - `missingPackages`: the Debian packages install-system-deps.sh lacks; `root`: whether
 *   this process may install them,
 * - `node24Installed`: whether tools/node24 holds Node 24.
 * Each step is `{ run, say }` (do `run`, after printing `say` when there is one) or
 * `{ fail }` (print it and stop).
 */
export function plan({ command, npm, linkedTo, missingPackages, root, node24Installed }) {
  const steps = [];
  if (npm.state !== 'fresh') {
    const why =
      npm.state === 'absent' ? 'node_modules is not installed' : `node_modules is stale (${npm.reason})`;
    if (linkedTo) {
      return [
        {
          fail: `prepare: ${why}, and it links to ${linkedTo}: run npm ci in the project that folder belongs to (npm ci here would empty it).`,
        },
      ];
    }
    steps.push({ run: 'npm-ci', say: `prepare: ${why}: npm ci` });
  }
  if (missingPackages.length > 0) {
    if (!root) {
      return [
        ...steps,
        {
          fail: `prepare: ${missingPackages.join(', ')} must be installed, which needs root: run sudo scripts/install-system-deps.sh, then npm ${command === 'test' ? 'test' : `run ${command}`} again.`,
        },
      ];
    }
    // The script says what it installs.
    steps.push({ run: 'system-packages' });
  }
  if (commands[command].node24 && !node24Installed) {
    steps.push({ run: 'node24', say: 'prepare: Node 24 is not installed: npm ci in tools/node24' });
  }
  return steps;
}

/** The Debian packages install-system-deps.sh would install; none when it finds all. */
function missingSystemPackages() {
  const check = spawnSync('bash', [join(repoRoot, 'scripts', 'install-system-deps.sh'), '--check'], {
    encoding: 'utf8',
  });
  if (check.error) throw new Error(`cannot run scripts/install-system-deps.sh: ${check.error.message}`);
  if (check.status === 0) return [];
  const missing = check.stdout.trim().split(/\s+/).filter(Boolean);
  if (check.status !== 1 || missing.length === 0) {
    throw new Error(
      `scripts/install-system-deps.sh --check failed: ${check.stderr.trim() || `exit ${check.status}`}`,
    );
  }
  return missing;
}

/** Where node_modules links to when it is a symbolic link; undefined otherwise. */
function nodeModulesLink() {
  const path = join(repoRoot, 'node_modules');
  try {
    return lstatSync(path).isSymbolicLink() ? realpathSync(path) : undefined;
  } catch {
    return undefined; // absent, or a dangling link npm ci may replace
  }
}

function readJson(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

/** Runs `file args` in the repository, its output on this terminal; throws when it fails. */
function run(file, args) {
  const result = spawnSync(file, args, { cwd: repoRoot, stdio: 'inherit' });
  if (result.error) throw new Error(`cannot run ${file}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`'${[file, ...args].join(' ')}' failed (see above): fix the cause, then run it again.`);
}

const actions = {
  'npm-ci': () => run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']),
  'system-packages': () => run('bash', [join(repoRoot, 'scripts', 'install-system-deps.sh')]),
  node24: () => ensureNode24(),
};

function main(command) {
  if (!Object.hasOwn(commands, command)) {
    console.error(`prepare: name what to prepare for: ${Object.keys(commands).join(' or ')}.`);
    return 2;
  }
  const lock = readJson(join(repoRoot, 'package-lock.json'));
  if (!lock) {
    console.error('prepare: package-lock.json is missing: restore it (git checkout package-lock.json).');
    return 1;
  }
  const steps = plan({
    command,
    npm: npmInstallState({
      lock,
      installed: readJson(join(repoRoot, 'node_modules', '.package-lock.json')),
      present: (path) => existsSync(join(repoRoot, path)),
    }),
    linkedTo: nodeModulesLink(),
    missingPackages: missingSystemPackages(),
    root: process.getuid?.() === 0,
    node24Installed: existsSync(node24Path),
  });
  for (const step of steps) {
    if (step.fail) {
      console.error(step.fail);
      return 1;
    }
    if (step.say) console.log(step.say);
    actions[step.run]();
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv[2]);
  } catch (error) {
    console.error(`prepare: ${error.message}`);
    process.exitCode = 1;
  }
}
