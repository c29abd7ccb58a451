/**
 * An ArtifactStore over plain folders, `<root>/<run>/<artifact>/...`, following the contract
 * in types.ts: what the built-ins' tests publish to and download from. Other runs (pipeline
 * resources) are seeded with `seed`.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { minimatch } from '../support/glob';
import type { ArtifactSource, ArtifactStore } from '../types';

/** A store whose artifacts are folders under `root`. */
export class FolderArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  /** Copies a file or folder in as artifact `name` of the current run. */
  async publish(name: string, sourcePath: string): Promise<void> {
    const target = this.folderOf({ kind: 'current' }, name);
    if (existsSync(target)) throw new Error(`An artifact named '${name}' already exists in this run.`);
    mkdirSync(target, { recursive: true });
    const source = statSync(sourcePath);
    cpSync(sourcePath, source.isDirectory() ? target : join(target, basename(sourcePath)), {
      recursive: true,
    });
  }

  /** The artifact names a run holds, sorted. */
  async list(source: ArtifactSource): Promise<readonly string[]> {
    const folder = this.runFolder(source);
    if (!existsSync(folder)) return [];
    return readdirSync(folder).sort();
  }

  /** Copies the artifact's files matching `patterns` into `targetPath`. */
  async download(
    source: ArtifactSource,
    name: string,
    patterns: readonly string[],
    targetPath: string,
  ): Promise<readonly string[]> {
    const folder = this.folderOf(source, name);
    if (!existsSync(folder)) throw new Error(`No artifact named '${name}' in that run.`);
    const written: string[] = [];
    for (const file of filesUnder(folder)) {
      const relativePath = relative(folder, file).split(sep).join('/');
      if (!matches(relativePath, patterns)) continue;
      const target = join(targetPath, relativePath);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(file, target);
      written.push(target);
    }
    return written;
  }

  /** Seeds an artifact of another run (a pipeline resource's) from a folder. */
  seed(source: ArtifactSource, name: string, sourceFolder: string): void {
    cpSync(sourceFolder, this.folderOf(source, name), { recursive: true });
  }

  private runFolder(source: ArtifactSource): string {
    return source.kind === 'current'
      ? join(this.root, 'current')
      : join(this.root, 'pipeline', source.definition, source.runId ?? 'latest');
  }

  private folderOf(source: ArtifactSource, name: string): string {
    return join(this.runFolder(source), name);
  }
}

function matches(relativePath: string, patterns: readonly string[]): boolean {
  let included = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (minimatch(relativePath, pattern.slice(1), { dot: true })) included = false;
    } else if (minimatch(relativePath, pattern, { dot: true })) {
      included = true;
    }
  }
  return included;
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}
