import { relative } from 'node:path';

/** A path as the user would recognise it in a log or error line: relative to the working directory. */
export function shownPath(workDir: string, path: string): string {
  return relative(workDir, path) || path;
}
