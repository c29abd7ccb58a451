import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readBuildInfo } from '../../src/build-info.mjs';

describe('readBuildInfo', () => {
  const folder = mkdtempSync(join(tmpdir(), 'orders-build-info-'));
  after(() => rmSync(folder, { recursive: true, force: true }));
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'orders-api', version: '1.2.3' }));

  it('says the sources are unbuilt when there is no build-info.json', () => {
    assert.deepEqual(readBuildInfo(folder), {
      name: 'orders-api',
      version: '1.2.3',
      commit: 'unbuilt',
      builtAt: null,
    });
  });

  it("reads the build's commit and time", () => {
    writeFileSync(
      join(folder, 'build-info.json'),
      JSON.stringify({ commit: 'abc1234', builtAt: '2025-01-02T03:04:05.000Z' }),
    );
    assert.deepEqual(readBuildInfo(folder), {
      name: 'orders-api',
      version: '1.2.3',
      commit: 'abc1234',
      builtAt: '2025-01-02T03:04:05.000Z',
    });
  });
});
