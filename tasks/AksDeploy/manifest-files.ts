import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { excerpt } from '../shared/redaction';
import { TaskError } from '../shared/task-error';
import type { NumberedLine } from './config';
import { isKustomizationFile, kustomizationFileIn } from './kustomization';
import type { ManifestFile } from './manifests';
import { shownPath } from './shown-path';

/** The longest `manifests` line taken as a path or glob: Linux's PATH_MAX. */
const maxPatternLength = 4096;

/** Whether a pattern uses glob syntax (minimatch's wildcards, classes, braces and extglobs). */
export function isGlob(pattern: string): boolean {
  return /[*?[\]{}]|[+@!]\(/.test(pattern);
}

/** A folder named by a `manifests` line that holds a kustomization, to be rendered. */
export interface KustomizationFolder {
  /** The `manifests` line that names it. */
  readonly line: number;
  /** The folder as the user would recognise it (relative to the working directory). */
  readonly folder: string;
  readonly path: string;
}

/** What the `manifests` lines name: manifest files to read and kustomization folders to render. */
export interface ManifestSources {
  readonly files: ManifestFile[];
  /** In the order of their lines. */
  readonly kustomizations: KustomizationFolder[];
}

/**
 * Expands the `manifests` lines into the files to read, sorted, and reads them, and into the
 * kustomization folders to render. The lines are one set: globs (a line starting with `!`
 * excludes, from every other line) may each match nothing as long as the set matches
 * something, so that a `*.yaml` glob and a `*.yml` glob can be listed together. A plain path
 * is a promise: it names a file, or a folder holding a kustomization; one that names nothing,
 * or a folder without a kustomization, is an error naming the line. A kustomization file
 * matched as a manifest is an error too: applied as it is, it would fail or, worse, its
 * patches beside it would be applied as whole objects.
 */
export function readManifestSources(lines: readonly NumberedLine[], workDir: string): ManifestSources {
  for (const { line, text } of lines) {
    if (text.length > maxPatternLength)
      throw new TaskError('ManifestPatternTooLong', [
        line,
        text.length,
        maxPatternLength,
        excerpt(text, 200),
      ]);
  }
  const includes = lines.filter(({ text }) => !text.startsWith('!'));
  const excludes = lines.filter(({ text }) => text.startsWith('!'));
  // Each kustomization folder, with the first line that names it.
  const folders = new Map<string, number>();
  const folderLines = new Set<number>();
  for (const { line, text } of includes) {
    if (!isGlob(text) && checkPlainPath(line, text, workDir) === 'kustomization') {
      const path = resolve(workDir, text);
      if (!folders.has(path)) folders.set(path, line);
      folderLines.add(line);
    }
  }
  // minimatch reads a trailing slash as "a folder's contents", which would not match the folder.
  const patterns = [...includes, ...excludes].map(({ text, line }) =>
    folderLines.has(line) ? text.replace(/[\\/]+$/, '') : text,
  );
  const found = tl.findMatch(workDir, patterns);
  const files = found.filter((file) => tl.stats(file).isFile()).sort();
  const kustomizations = found
    .map((path) => resolve(path))
    .filter((path) => folders.has(path))
    .map((path) => ({ line: folders.get(path)!, folder: shownPath(workDir, path), path }))
    .sort((a, b) => a.line - b.line);
  if (files.length === 0 && kustomizations.length === 0) {
    const listed = lines.map(({ text }) => excerpt(text, 200)).join(', ');
    throw new TaskError('ManifestsNotFound', [listed, workDir]);
  }
  const kustomizationFile = files.find((file) => isKustomizationFile(file));
  if (kustomizationFile)
    throw new TaskError('ManifestIsKustomization', [
      excerpt(shownPath(workDir, kustomizationFile), 200),
      excerpt(shownPath(workDir, dirname(kustomizationFile)), 200),
    ]);
  return {
    files: files.map((file) => ({ file: shownPath(workDir, file), bytes: readFileSync(file) })),
    kustomizations,
  };
}

/** A plain path must name a file, or a folder holding a kustomization. */
function checkPlainPath(line: number, path: string, workDir: string): 'file' | 'kustomization' {
  const absolute = resolve(workDir, path);
  let isFile: boolean;
  try {
    isFile = statSync(absolute).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG')
      throw new TaskError('ManifestFileNotFound', [line, excerpt(path, 200), workDir], error);
    throw error;
  }
  if (isFile) return 'file';
  if (kustomizationFileIn(absolute)) return 'kustomization';
  throw new TaskError('ManifestPathIsFolder', [
    line,
    excerpt(path, 200),
    excerpt(path.replace(/\/+$/, ''), 200),
  ]);
}
