import { readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { excerpt } from '../shared/redaction';
import { TaskError } from '../shared/task-error';
import type { NumberedLine } from './config';
import type { ManifestFile } from './manifests';

/** The longest `manifests` line taken as a path or glob: Linux's PATH_MAX. */
const maxPatternLength = 4096;

/** Whether a pattern uses glob syntax (minimatch's wildcards, classes, braces and extglobs). */
export function isGlob(pattern: string): boolean {
  return /[*?[\]{}]|[+@!]\(/.test(pattern);
}

/**
 * Expands the `manifests` lines into the files to read, sorted, and reads them. The
 * lines are one set: globs (a line starting with `!` excludes, from every other line)
 * may each match nothing as long as the set matches something, so that a `*.yaml` glob
 * and a `*.yml` glob can be listed together. A plain path is a promise that the file exists:
 * one that names no file, or a folder, is an error naming the line.
 */
export function readManifestFiles(lines: readonly NumberedLine[], workDir: string): ManifestFile[] {
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
  for (const { line, text } of includes) {
    if (!isGlob(text)) checkPlainPath(line, text, workDir);
  }
  const found = tl
    .findMatch(
      workDir,
      [...includes, ...excludes].map(({ text }) => text),
    )
    .filter((file) => tl.stats(file).isFile())
    .sort();
  if (found.length === 0) {
    const patterns = lines.map(({ text }) => excerpt(text, 200)).join(', ');
    throw new TaskError('ManifestsNotFound', [patterns, workDir]);
  }
  return found.map((file) => ({ file: relative(workDir, file) || file, bytes: readFileSync(file) }));
}

/** A plain path must name a file. */
function checkPlainPath(line: number, path: string, workDir: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(resolve(workDir, path)).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG')
      throw new TaskError('ManifestFileNotFound', [line, excerpt(path, 200), workDir], error);
    throw error;
  }
  if (!isFile)
    throw new TaskError('ManifestPathIsFolder', [
      line,
      excerpt(path, 200),
      excerpt(path.replace(/\/+$/, ''), 200),
    ]);
}
