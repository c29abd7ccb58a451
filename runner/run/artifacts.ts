/**
 * Pipeline artifacts on disk: each run keeps its artifacts in `<run folder>/artifacts/<name>`,
 * and a pipeline resource reads another pipeline's run from the folder the resources file
 * names for it.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { minimatch } from '../builtin/support/glob';
import type { ArtifactSource, ArtifactStore } from '../builtin/types';

/** Where a pipeline resource's runs are, and which run it means. */
export interface PipelineRunLocator {
  /** The run folder of `definition`'s run `runId` (the latest successful one when omitted). */
  runFolder(definition: string, runId?: string): string;
}

/** A mistake the user can fix (an unknown artifact, a name used twice): one line. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/** The artifact store of the run kept in `runFolder`. */
export function artifactStore(runFolder: string, pipelines: PipelineRunLocator): ArtifactStore {
  const root = (source: ArtifactSource) =>
    join(
      source.kind === 'current' ? runFolder : pipelines.runFolder(source.definition, source.runId),
      'artifacts',
    );
  const describe = (source: ArtifactSource) =>
    source.kind === 'current' ? 'this run' : `the run of '${source.definition}'`;
  const list = (source: ArtifactSource) => {
    const folder = root(source);
    return existsSync(folder) ? readdirSync(folder).sort() : [];
  };

  return {
    async publish(name, sourcePath) {
      if (!/^[\w.-]+$/.test(name)) {
        throw new ArtifactError(
          `The artifact name '${name}' is not valid: use letters, digits, '.', '-' and '_'.`,
        );
      }
      if (!existsSync(sourcePath)) {
        throw new ArtifactError(`The path ${sourcePath} to publish as artifact '${name}' does not exist.`);
      }
      const target = join(root({ kind: 'current' }), name);
      if (existsSync(target)) {
        throw new ArtifactError(
          `An artifact named '${name}' was already published in this run: give this one another name.`,
        );
      }
      mkdirSync(dirname(target), { recursive: true });
      if (statSync(sourcePath).isDirectory()) cpSync(sourcePath, target, { recursive: true });
      else {
        mkdirSync(target);
        cpSync(sourcePath, join(target, sourcePath.split(sep).pop()!));
      }
    },
    async list(source) {
      return list(source);
    },
    async download(source, name, patterns, targetPath) {
      const folder = join(root(source), name);
      if (!existsSync(folder)) {
        const names = list(source);
        throw new ArtifactError(
          `${describe(source)} has no artifact named '${name}'; it has ${names.length > 0 ? names.map((each) => `'${each}'`).join(', ') : 'none'}.`,
        );
      }
      const includes = patterns.filter((pattern) => !pattern.startsWith('!'));
      const excludes = patterns
        .filter((pattern) => pattern.startsWith('!'))
        .map((pattern) => pattern.slice(1));
      const written: string[] = [];
      for (const file of filesUnder(folder)) {
        const path = relative(folder, file).split(sep).join('/');
        const included = (includes.length === 0 ? ['**'] : includes).some((pattern) =>
          minimatch(path, pattern, { dot: true }),
        );
        if (!included || excludes.some((pattern) => minimatch(path, pattern, { dot: true }))) continue;
        const target = join(targetPath, path);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(file, target);
        written.push(target);
      }
      return written;
    },
  };
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}
