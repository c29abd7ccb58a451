import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { quoted } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';

// Most file systems cap one name at 255 bytes.
const longestName = 255;

/**
 * Checks, before the vault is asked anything, that the export file can be written where
 * `path` says: so that a path that cannot work fails with nothing set and nothing written,
 * instead of after the variables are set. Throws one TaskError naming the input and why.
 */
export function checkExportTarget(path: string): void {
  const refuse = (reason: string): never => {
    throw new TaskError('ExportFileInvalid', [quoted(path), reason]);
  };
  if (/[\u0000-\u001f\u007f]/.test(path)) refuse('it holds control characters');
  const longName = path.split(/[\\/]/).find((name) => Buffer.byteLength(name) > longestName);
  if (longName !== undefined) refuse(`a name in it is longer than ${longestName} bytes`);
  const target = statOrUndefined(path);
  if (target?.isDirectory()) refuse('it is a folder, not a file');
  let folder = dirname(path);
  for (; ; folder = dirname(folder)) {
    const found = statOrUndefined(folder);
    if (found?.isDirectory()) break;
    if (found) refuse(`${quoted(folder)} is a file, not a folder`);
    if (dirname(folder) === folder) refuse('none of its folders exists');
  }
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    refuse(`the agent user may not write in ${quoted(folder)}`);
  }
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
