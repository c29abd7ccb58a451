import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TaskError } from '../shared/task-error';
import {
  checkKustomization,
  isKustomizationFile,
  isRemoteResource,
  kustomizationFileIn,
} from './kustomization';

/** Writes files (path relative to `root` → text), creating their folders. */
function writeTree(root: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
}

describe('kustomizations, read before rendering', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kustomization-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const check = (folder: string) => checkKustomization(join(dir, folder), dir);
  const refusal = (folder: string) => {
    try {
      check(folder);
    } catch (error) {
      if (error instanceof TaskError) return { key: error.key, args: error.args };
      throw error;
    }
    return undefined;
  };

  it('finds the kustomization by any of the three names Kustomize reads', () => {
    writeTree(dir, { 'a/kustomization.yml': '', 'b/Kustomization': '', 'c/kustomization.yaml.bak': '' });
    assert.equal(kustomizationFileIn(join(dir, 'a')), join(dir, 'a/kustomization.yml'));
    assert.equal(kustomizationFileIn(join(dir, 'b')), join(dir, 'b/Kustomization'));
    assert.equal(kustomizationFileIn(join(dir, 'c')), undefined);
    assert.ok(isKustomizationFile('deploy/base/kustomization.yaml'));
    assert.ok(!isKustomizationFile('deploy/base/my-kustomization.yaml'));
  });

  it('tells remote resources from local ones as Kustomize’s loaders do', () => {
    for (const remote of [
      'https://github.com/org/repo//deploy/base?ref=v1.2.0',
      'http://example.com/app.yaml',
      'ssh://git@example.com/org/repo.git//base',
      'git@github.com:org/repo.git//base',
      'git::https://example.com/org/repo.git',
      'gh:org/repo//base',
      'github.com/org/repo/deploy/base?ref=main',
      'dev.azure.com/contoso/orders/_git/deploy//base',
      'oci://contoso.azurecr.io/bases/orders:1.0',
    ])
      assert.ok(isRemoteResource(remote), remote);
    for (const local of [
      '../base',
      'deployment.yaml',
      'base/',
      '/abs/base',
      'file:///srv/repos/base',
      'my.github.com.yaml',
    ])
      assert.ok(!isRemoteResource(local), local);
  });

  it('refuses a remote base anywhere below the overlay, naming the file and line', () => {
    writeTree(dir, {
      'overlays/staging/kustomization.yaml': 'resources:\n  - ../../base\n',
      'base/kustomization.yaml': [
        'resources:',
        '  - deployment.yaml',
        '  # the shared labels',
        '  - https://github.com/contoso/platform//bases/labels?ref=v3',
      ].join('\n'),
      'base/deployment.yaml': '',
    });
    assert.deepEqual(refusal('overlays/staging'), {
      key: 'KustomizeRemoteResource',
      args: ['base/kustomization.yaml', 4, 'https://github.com/contoso/platform//bases/labels?ref=v3'],
    });
  });

  it('refuses remote components, generators and transformers too', () => {
    writeTree(dir, {
      'a/kustomization.yaml': 'components:\n- github.com/contoso/components/probes\n',
      'b/kustomization.yaml':
        'transformers:\n- |\n  apiVersion: builtin\n  kind: LabelTransformer\n- https://example.com/t.yaml\n',
    });
    assert.equal(refusal('a')?.key, 'KustomizeRemoteResource');
    assert.deepEqual(refusal('b')?.args, ['b/kustomization.yaml', 5, 'https://example.com/t.yaml']);
  });

  it('names a local resource that does not exist, with its file and line', () => {
    writeTree(dir, { 'overlay/kustomization.yaml': 'namePrefix: x-\nresources:\n- ../bsae\n' });
    assert.deepEqual(refusal('overlay'), {
      key: 'KustomizeResourceNotFound',
      args: ['overlay/kustomization.yaml', 3, '../bsae', 'bsae'],
    });
  });

  it('names a kustomization that is not YAML, with the parser’s line', () => {
    writeTree(dir, { 'overlay/kustomization.yaml': 'resources:\n  - a.yaml\n  bad: [\n' });
    const refused = refusal('overlay');
    assert.equal(refused?.key, 'KustomizationInvalid');
    assert.equal(refused?.args[0], 'overlay/kustomization.yaml');
    assert.match(String(refused?.args[1]), /line 3/);
  });

  it('returns the overlay’s own images entries with their lines, and survives bases that name each other', () => {
    writeTree(dir, {
      'overlay/kustomization.yaml': [
        'resources: [../a]',
        'images:',
        '  - name: orders/api',
        '    newName: contoso.azurecr.io/orders/api',
        '    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        '  - name: busybox',
        '    newTag: 1.10',
      ].join('\n'),
      'a/kustomization.yaml': 'resources: [../b]\nimages: [{ name: nginx, newTag: "1.27" }]\n',
      'b/kustomization.yaml': 'resources: [../a]\n',
    });
    assert.deepEqual(check('overlay'), {
      file: 'overlay/kustomization.yaml',
      images: [
        {
          name: 'orders/api',
          newName: 'contoso.azurecr.io/orders/api',
          digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
          line: 3,
        },
        { name: 'busybox', newTag: '1.10', line: 6 },
      ],
    });
  });
});
