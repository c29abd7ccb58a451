import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Breakage } from './environment';

/** What the user asked the demo for. */
export interface DemoOptions {
  readonly breakage: Breakage | undefined;
  /** Where the vsix, the unpacked tasks, the summaries and the report go (default dist/demo). */
  readonly outDir: string;
  readonly help: boolean;
}

/** The usage text `--help` prints and a bad argument points to. */
export const usage = `Usage: npm run demo [-- --break staging|acceptance] [--out-dir <dir>]

Runs the CD flow end to end on the emulated Azure, on loopback, with the packaged tasks.
  --break staging      the staging rollout fails: diagnosis, rollback, no promotion (exit 1)
  --break acceptance   the acceptance gate fails on staging: no promotion (exit 1)
  --out-dir <dir>      where the report goes (default dist/demo)`;

/** Reads the demo's arguments; throws with one line on anything it does not know. */
export function parseDemoOptions(argv: readonly string[], repoRoot: string): DemoOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      break: { type: 'string' },
      'out-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const breakage = values.break;
  if (breakage !== undefined && breakage !== 'staging' && breakage !== 'acceptance') {
    throw new Error(`--break takes staging or acceptance, not '${breakage}'.`);
  }
  return {
    breakage,
    outDir: resolve(repoRoot, values['out-dir'] ?? 'dist/demo'),
    help: values.help ?? false,
  };
}
