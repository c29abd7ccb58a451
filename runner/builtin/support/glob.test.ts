import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFiles } from './glob';

describe('findFiles (findMatch semantics)', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'glob-'));
    for (const file of [
      'a/TEST-1.xml',
      'a/b/TEST-2.xml',
      'a/.hidden/TEST-3.xml',
      'c/TEST-4.xml',
      'c/other.xml',
      'Dockerfile',
      'app/Dockerfile',
    ]) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), '');
    }
    symlinkSync(join(root, 'a'), join(root, 'link'));
    symlinkSync(join(root, 'missing'), join(root, 'broken'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const cases: [string, string[], string[]][] = [
    [
      'a globstar, dot folders included, links followed',
      ['**/TEST-*.xml'],
      [
        'a/.hidden/TEST-3.xml',
        'a/TEST-1.xml',
        'a/b/TEST-2.xml',
        'c/TEST-4.xml',
        'link/.hidden/TEST-3.xml',
        'link/TEST-1.xml',
        'link/b/TEST-2.xml',
      ],
    ],
    [
      'an exclude removes what earlier lines included',
      ['**/TEST-*.xml', '!link/**', '!**/.hidden/**'],
      ['a/TEST-1.xml', 'a/b/TEST-2.xml', 'c/TEST-4.xml'],
    ],
    ['a later include adds back', ['c/*.xml', '!c/*', 'c/other.xml'], ['c/other.xml']],
    ['comments and blank lines are skipped', ['# a comment', '', '  c/TEST-4.xml  '], ['c/TEST-4.xml']],
    ['a literal path names one file', ['Dockerfile'], ['Dockerfile']],
    ['no brace expansion, as findMatch', ['c/{TEST-4,other}.xml'], []],
  ];
  for (const [title, patterns, expected] of cases) {
    it(title, () => {
      assert.deepEqual(findFiles(root, patterns), expected.map((file) => join(root, file)).sort());
    });
  }

  it('with matchBase, a bare name matches at any depth (docker-common findDockerFile)', () => {
    assert.deepEqual(findFiles(root, [join(root, '**', 'Dockerfile')], { matchBase: true }), [
      join(root, 'Dockerfile'),
      join(root, 'app', 'Dockerfile'),
    ]);
  });

  it('takes absolute patterns as they are', () => {
    assert.deepEqual(findFiles('/nowhere', [join(root, 'c', '*.xml')]), [
      join(root, 'c', 'TEST-4.xml'),
      join(root, 'c', 'other.xml'),
    ]);
  });
});
