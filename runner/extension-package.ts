import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import JSZip from 'jszip';

/** The repository root, found from this file so that the checkout can live anywhere. */
export const repoRoot = join(__dirname, '..');

/** The vsix built, and where its tasks were unpacked. */
export interface UnpackedExtension {
  /** The vsix, copied into the output folder. */
  readonly vsix: string;
  /** `<outDir>/tasks`: one folder per task, as the agent extracts them. */
  readonly tasksDir: string;
  /** The task folders the vsix holds, by name. */
  readonly tasks: ReadonlyMap<string, string>;
}

interface PackageModule {
  createVsix(options: { publisher: string; variant: string; outDir: string }): string;
}

/**
 * Bundles the tasks (scripts/build.mjs), packages them with scripts/package.mjs's
 * createVsix into a fresh temporary folder (so a concurrent `npm run package` is never
 * disturbed), and unpacks the vsix into `<outDir>/tasks`.
 */
export async function buildAndUnpack(outDir: string): Promise<UnpackedExtension> {
  try {
    // Asynchronous, so that a Ctrl-C during the build is handled at once.
    await promisify(execFile)(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`Building the tasks failed: ${stderr || (error as Error).message}`);
  }
  const packaging = mkdtempSync(join(tmpdir(), 'demo-vsix-'));
  try {
    const { createVsix } = (await import(
      pathToFileURL(join(repoRoot, 'scripts', 'package.mjs')).href
    )) as PackageModule;
    const built = createVsix({ publisher: 'aks-release-flow', variant: 'prod', outDir: packaging });
    mkdirSync(outDir, { recursive: true });
    // A vsix of an earlier version must not be mistaken for this one.
    for (const old of readdirSync(outDir).filter((file) => file.endsWith('.vsix'))) rmSync(join(outDir, old));
    const vsix = join(outDir, basename(built));
    copyFileSync(built, vsix);
    const tasksDir = join(outDir, 'tasks');
    rmSync(tasksDir, { recursive: true, force: true });
    const tasks = await unpackTasks(readFileSync(vsix), tasksDir);
    return { vsix, tasksDir, tasks };
  } finally {
    rmSync(packaging, { recursive: true, force: true });
  }
}

/** Extracts every task folder (a top-level folder holding task.json) of a vsix into `tasksDir`. */
export async function unpackTasks(vsixBytes: Buffer, tasksDir: string): Promise<Map<string, string>> {
  const zip = await JSZip.loadAsync(vsixBytes);
  const taskNames = Object.keys(zip.files)
    .map((path) => /^([^/]+)\/task\.json$/.exec(path)?.[1])
    .filter((name): name is string => name !== undefined);
  const tasks = new Map<string, string>();
  for (const name of taskNames) {
    for (const file of Object.values(zip.files)) {
      if (file.dir || !file.name.startsWith(`${name}/`)) continue;
      const target = join(tasksDir, file.name);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, await file.async('nodebuffer'));
    }
    tasks.set(name, join(tasksDir, name));
  }
  return tasks;
}
