/**
 * File patterns as the real tasks resolve them with task-lib's `findMatch`: one pattern a
 * line, `#` comments, `!` excludes what earlier lines included, relative patterns rooted at
 * a default folder, dot files matched, no brace expansion. The matching itself is
 * minimatch 3, the version task-lib uses (installed with azure-pipelines-task-lib, which
 * package.json declares); it ships no types, so the two calls used here are typed below.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** The minimatch options this module and its callers use. */
export interface MinimatchOptions {
  readonly dot?: boolean;
  readonly nobrace?: boolean;
  readonly nocomment?: boolean;
  readonly nonegate?: boolean;
  readonly matchBase?: boolean;
}

interface MinimatchModule {
  (path: string, pattern: string, options?: MinimatchOptions): boolean;
  Minimatch: new (pattern: string, options?: MinimatchOptions) => { set: (string | object)[][] };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const minimatchModule: MinimatchModule = require('minimatch');

/** Whether `path` matches `pattern` (minimatch 3, as task-lib matches). */
export function minimatch(path: string, pattern: string, options: MinimatchOptions = {}): boolean {
  return minimatchModule(path, pattern, options);
}

/** findMatch's default match options on Linux. */
const findMatchOptions: MinimatchOptions = { dot: true, nobrace: true, nocomment: true, nonegate: true };

/**
 * The files matching `patterns` (each rooted at `defaultRoot` unless absolute), in
 * findMatch's order: includes add, `!` excludes remove, later lines win. Sorted; files only.
 */
export function findFiles(
  defaultRoot: string,
  patterns: readonly string[],
  options: { readonly matchBase?: boolean } = {},
): string[] {
  const matchOptions: MinimatchOptions = { ...findMatchOptions, matchBase: options.matchBase ?? false };
  const results = new Set<string>();
  for (const line of patterns) {
    let pattern = line.trim();
    if (!pattern || pattern.startsWith('#')) continue;
    let negations = 0;
    while (pattern.charAt(negations) === '!') negations++;
    pattern = pattern.slice(negations);
    if (!pattern) continue;
    const basenameOnly = matchOptions.matchBase && !pattern.includes('/');
    const rooted = basenameOnly || isAbsolute(pattern) ? pattern : join(defaultRoot, pattern);
    if (negations % 2 === 0) {
      const findRoot = basenameOnly ? defaultRoot : literalPrefix(rooted);
      for (const file of walkFiles(findRoot)) {
        if (minimatch(file, rooted, matchOptions)) results.add(file);
      }
    } else {
      for (const file of [...results]) {
        if (minimatch(file, rooted, matchOptions)) results.delete(file);
      }
    }
  }
  return [...results].sort();
}

/** The folder a pattern's literal leading segments name: where findMatch starts its walk. */
function literalPrefix(pattern: string): string {
  const parsed = new minimatchModule.Minimatch(pattern, findMatchOptions).set[0] ?? [];
  const literal: string[] = [];
  for (const segment of parsed) {
    if (typeof segment !== 'string') break;
    literal.push(segment);
  }
  // A pattern with no glob at all names one path: walk it (a file walks to itself).
  return resolve('/', ...literal);
}

/** Every file under `path` (or `path` itself when it is a file), symbolic links followed, broken ones skipped. */
function walkFiles(path: string): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return [];
  }
  if (stats.isFile()) return [path];
  if (!stats.isDirectory()) return [];
  const files: string[] = [];
  // Like task-lib's find: a link is followed unless it points back into its own ancestry.
  const visit = (folder: string, ancestors: ReadonlySet<string>) => {
    const folderStats = statSync(folder);
    const key = `${folderStats.dev}:${folderStats.ino}`;
    if (ancestors.has(key)) return;
    const within = new Set(ancestors).add(key);
    for (const name of readdirSync(folder).sort()) {
      const child = join(folder, name);
      let childStats;
      try {
        childStats = statSync(child);
      } catch {
        continue;
      }
      if (childStats.isDirectory()) visit(child, within);
      else if (childStats.isFile()) files.push(child);
    }
  };
  visit(path, new Set());
  return files;
}
