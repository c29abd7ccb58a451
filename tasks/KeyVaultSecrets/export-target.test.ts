import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskError } from '../shared/task-error';
import { checkExportTarget } from './export-target';

describe('KeyVaultSecrets export target', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'export-target-'));
    mkdirSync(join(root, 'existing folder'));
    writeFileSync(join(root, 'plain-file'), 'x');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const accepted = [
    'app.env',
    'existing folder/app.env',
    'new/nested/folder/app.env',
    'ünïcödé 密码/app 🔑.env',
    'plain-file',
  ];
  for (const path of accepted) {
    it(`accepts ${path}`, () => checkExportTarget(join(root, path)));
  }

  const rejected: { path: () => string; reason: RegExp }[] = [
    { path: () => join(root, 'existing folder'), reason: /is a folder, not a file/ },
    {
      path: () => join(root, 'plain-file', 'app.env'),
      reason: /plain-file is a file, not a folder/,
    },
    { path: () => join(root, 'nul\u0000here.env'), reason: /control characters/ },
    { path: () => join(root, `${'n'.repeat(300)}.env`), reason: /longer than 255 bytes/ },
  ];
  for (const { path, reason } of rejected) {
    it(`refuses ${reason.source}`, () =>
      assert.throws(
        () => checkExportTarget(path()),
        (error: unknown) =>
          error instanceof TaskError &&
          error.key === 'ExportFileInvalid' &&
          reason.test(String(error.args[1])) &&
          String(error.args[0]).length < 260,
      ));
  }
});
