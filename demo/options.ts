import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** What can be broken on purpose, and where the run then stops. */
export const breakages = ['pr', 'staging', 'acceptance', 'health', 'production'] as const;
export type Breakage = (typeof breakages)[number];

/** What the user asked the demo for. */
export interface DemoOptions {
  readonly breakage: Breakage | undefined;
  /** Where the vsix, the runs, the report and result.json go (default dist/demo). */
  readonly outDir: string;
  readonly help: boolean;
}

/** The usage text `--help` prints and a bad argument points to. */
export const usage = `Usage: npm run demo [-- --break pr|staging|acceptance|health|production] [--out-dir <dir>]

Runs the example pipelines (templates/examples/) for the sample app (sample-app/) through
the local pipeline runner, PR → CI → CD, on the emulated Azure, on loopback.
  --break pr           a unit test fails: the PR pipeline stops, nothing is pushed (exit 1)
  --break staging      the release crashes on staging: diagnosis, rollback, no promotion (exit 1)
  --break acceptance   staging answers badly: the acceptance gate fails, no promotion (exit 1)
  --break health       staging answers well, but the release's pods log errors: the gate fails
                       on Container Insights data, no promotion (exit 1)
  --break production   the release runs out of memory once live on production: Verify fails,
                       the images production ran before are deployed again (exit 1)
  --out-dir <dir>      where the runs and the report go (default dist/demo)`;

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
  if (breakage !== undefined && !(breakages as readonly string[]).includes(breakage)) {
    throw new Error(`--break takes ${breakages.join(', ')}, not '${breakage}'.`);
  }
  return {
    breakage: breakage as Breakage | undefined,
    outDir: resolve(repoRoot, values['out-dir'] ?? 'dist/demo'),
    help: values.help ?? false,
  };
}
