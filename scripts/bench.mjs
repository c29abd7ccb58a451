// Runs one benchmark: `npm run bench -- <name> [args...]` runs bench/<name>.mjs (or
// bench/<name>.ts, through tsx) in its own process, with the remaining arguments.
// Each benchmark prints a table and, as its last line, one JSON result
// (see the benchmarks design note for its shape).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'bench');

function available() {
  if (!existsSync(benchDir)) return [];
  return readdirSync(benchDir)
    .filter((file) => /^[a-z0-9-]+\.(mjs|ts)$/.test(file))
    .map((file) => file.replace(/\.(mjs|ts)$/, ''))
    .sort();
}

const [name, ...args] = process.argv.slice(2);
const script = ['mjs', 'ts'].map((ext) => join(benchDir, `${name}.${ext}`)).find((file) => existsSync(file));
if (!name || !/^[a-z0-9-]+$/.test(name) || !script) {
  console.error(`Usage: npm run bench -- <name>. Benchmarks: ${available().join(', ') || 'none yet'}.`);
  process.exit(2);
}

// TypeScript benchmarks run through tsx, as the tests do.
const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
const run = spawnSync(process.execPath, [...loader, script, ...args], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
