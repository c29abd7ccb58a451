import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskError } from '../shared/task-error';
import { isGlob, readManifestSources } from './manifest-files';

describe('manifest files from the manifests input', () => {
  let dir: string;
  // task-lib's findMatch writes a debug line per step to stdout: kept out of the test report.
  const write = process.stdout.write.bind(process.stdout);
  before(() => {
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
      String(chunk).startsWith('##vso[task.debug]')
        ? true
        : write(chunk, ...rest)) as typeof process.stdout.write;
    dir = mkdtempSync(join(tmpdir(), 'manifest-files-'));
    for (const file of [
      'k8s/app.yaml',
      'k8s/old/legacy.yaml',
      'k8s/déploiement avec espaces/app.yaml',
      'k8s/notes.txt',
    ])
      mkdirSync(join(dir, file, '..'), { recursive: true });
    for (const file of [
      'k8s/app.yaml',
      'k8s/old/legacy.yaml',
      'k8s/déploiement avec espaces/app.yaml',
      'k8s/notes.txt',
    ])
      writeFileSync(join(dir, file), 'kind: x\n');
  });
  after(() => {
    process.stdout.write = write;
    rmSync(dir, { recursive: true, force: true });
  });

  const sources = (...patterns: string[]) =>
    readManifestSources(
      patterns.map((text, index) => ({ line: index + 1, text })),
      dir,
    );
  const read = (...patterns: string[]) => sources(...patterns).files.map((f) => f.file);
  const refusal = (...patterns: string[]) => {
    try {
      read(...patterns);
    } catch (error) {
      if (error instanceof TaskError) return { key: error.key, args: error.args };
      throw error;
    }
    return undefined;
  };

  it('tells globs from plain paths', () => {
    for (const glob of [
      '*.yaml',
      'k8s/**',
      'app?.yaml',
      'k8s/[ab].yaml',
      'k8s/{a,b}.yaml',
      'k8s/+(a|b).yaml',
    ])
      assert.ok(isGlob(glob), glob);
    for (const path of ['k8s/app.yaml', 'deploy/app (copy).yaml', 'k8s/déploiement avec espaces/app.yaml'])
      assert.ok(!isGlob(path), path);
  });

  it('takes the patterns as one set: a glob may match nothing when another matches', () => {
    assert.deepEqual(read('**/*.yaml', '**/*.yml'), [
      'k8s/app.yaml',
      'k8s/déploiement avec espaces/app.yaml',
      'k8s/old/legacy.yaml',
    ]);
    assert.deepEqual(read('**/*.yaml', '!k8s/old/**'), [
      'k8s/app.yaml',
      'k8s/déploiement avec espaces/app.yaml',
    ]);
    assert.deepEqual(read('k8s/déploiement avec espaces/app.yaml'), [
      'k8s/déploiement avec espaces/app.yaml',
    ]);
  });

  it('refuses a set that matches nothing, a missing plain path, a folder and an overlong line', () => {
    assert.equal(refusal('**/*.yml', 'deploy/*.json')?.key, 'ManifestsNotFound');
    assert.deepEqual(refusal('k8s/*.yaml', 'k8s/missing.yaml')?.args, [2, 'k8s/missing.yaml', dir]);
    assert.equal(refusal('k8s/old')?.key, 'ManifestPathIsFolder');
    const long = refusal('k8s/*.yaml', `k8s/${'a'.repeat(120_000)}.yaml`);
    assert.equal(long?.key, 'ManifestPatternTooLong');
    assert.equal(long?.args[0], 2);
    assert.ok(String(long?.args[3]).length < 300);
    assert.equal(
      refusal(`k8s/${'a'.repeat(300)}.yaml`)?.key,
      'ManifestFileNotFound',
      'a file name too long for the file system',
    );
  });
});

describe('kustomization folders from the manifests input', () => {
  let dir: string;
  const write = process.stdout.write.bind(process.stdout);
  before(() => {
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
      String(chunk).startsWith('##vso[task.debug]')
        ? true
        : write(chunk, ...rest)) as typeof process.stdout.write;
    dir = mkdtempSync(join(tmpdir(), 'manifest-folders-'));
    mkdirSync(join(dir, 'k8s'));
    writeFileSync(join(dir, 'k8s/app.yaml'), 'kind: x\n');
    for (const folder of ['deploy/base', 'deploy/overlays/staging', 'deploy/overlays/production'])
      mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, 'deploy/base/kustomization.yaml'), 'resources: [app.yaml]\n');
    writeFileSync(join(dir, 'deploy/base/app.yaml'), 'kind: x\n');
    writeFileSync(join(dir, 'deploy/overlays/staging/kustomization.yml'), 'resources: [../../base]\n');
    writeFileSync(join(dir, 'deploy/overlays/production/Kustomization'), 'resources: [../../base]\n');
  });
  after(() => {
    process.stdout.write = write;
    rmSync(dir, { recursive: true, force: true });
  });

  const sources = (...patterns: string[]) =>
    readManifestSources(
      patterns.map((text, index) => ({ line: index + 1, text })),
      dir,
    );
  const read = (...patterns: string[]) => sources(...patterns).files.map((f) => f.file);
  const refusal = (...patterns: string[]) => {
    try {
      sources(...patterns);
    } catch (error) {
      if (error instanceof TaskError) return { key: error.key, args: error.args };
      throw error;
    }
    return undefined;
  };

  it('takes a folder holding a kustomization (any of its three names) as one to render, beside files', () => {
    const set = sources('deploy/overlays/staging/', 'k8s/app.yaml', 'deploy/overlays/production');
    assert.deepEqual(
      set.files.map((f) => f.file),
      ['k8s/app.yaml'],
    );
    assert.deepEqual(
      set.kustomizations.map(({ line, folder, path }) => [line, folder, path]),
      [
        [1, 'deploy/overlays/staging', join(dir, 'deploy/overlays/staging')],
        [3, 'deploy/overlays/production', join(dir, 'deploy/overlays/production')],
      ],
    );
    assert.deepEqual(
      sources('deploy/base', 'deploy/base').kustomizations.length,
      1,
      'named twice, rendered once',
    );
    assert.deepEqual(
      sources(
        'deploy/overlays/staging',
        'deploy/overlays/production',
        '!deploy/overlays/production',
      ).kustomizations.map((k) => k.folder),
      ['deploy/overlays/staging'],
      'a line starting with ! excludes a folder too',
    );
    assert.deepEqual(sources('deploy/base').files, []);
  });

  it('refuses a kustomization file matched as a manifest, naming the folder to write instead', () => {
    assert.deepEqual(refusal('deploy/**/*.yaml'), {
      key: 'ManifestIsKustomization',
      args: ['deploy/base/kustomization.yaml', 'deploy/base'],
    });
    assert.equal(refusal('deploy/overlays/staging/kustomization.yml')?.key, 'ManifestIsKustomization');
    assert.deepEqual(read('deploy/**/*.yaml', '!**/kustomization.yaml'), ['deploy/base/app.yaml']);
  });

  it('still refuses a folder without a kustomization', () => {
    assert.equal(refusal('k8s')?.key, 'ManifestPathIsFolder');
    assert.equal(refusal('deploy/overlays')?.key, 'ManifestPathIsFolder');
  });
});
