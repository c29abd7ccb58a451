import { strict as assert } from 'node:assert';
import { TaskError } from '../shared/task-error';
import { manifestText, parseManifestFile, parseManifestFiles } from './manifests';

describe('manifest files', () => {
  it('reads multi-document YAML, JSON and List kinds', () => {
    const yamlText = [
      'apiVersion: v1',
      'kind: Namespace',
      'metadata: { name: orders }',
      '---',
      '# only a comment',
      '---',
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- { apiVersion: v1, kind: ConfigMap, metadata: { name: a } }',
      '- { apiVersion: v1, kind: ConfigMap, metadata: { name: b } }',
    ].join('\n');
    const objects = parseManifestFile('k8s/app.yaml', yamlText);
    assert.deepEqual(
      objects.map((o) => [o.object.kind, o.object.metadata.name, o.document]),
      [
        ['Namespace', 'orders', 1],
        ['ConfigMap', 'a', 3],
        ['ConfigMap', 'b', 3],
      ],
    );
    const json = parseManifestFile(
      'k8s/app.json',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}',
    );
    assert.deepEqual(
      json.map((o) => [o.object.kind, o.file, o.document]),
      [['Service', 'k8s/app.json', 1]],
    );
  });

  it('names the file and document of each bad input', () => {
    const table: [string, string, string, (string | number)[]][] = [
      ['a.yaml', 'kind: ConfigMap\n---\nkind: [unclosed\n', 'ManifestInvalid', ['a.yaml', 2]],
      ['a.yaml', 'apiVersion: v1\nmetadata: { name: x }\n', 'ManifestNoKind', ['a.yaml', 1]],
      [
        'a.yaml',
        'kind: ConfigMap\nmetadata: { name: x }\n',
        'ManifestNoApiVersion',
        ['a.yaml', 1, 'ConfigMap'],
      ],
      ['a.yaml', 'apiVersion: v1\nkind: ConfigMap\n', 'ManifestNoName', ['a.yaml', 1, 'ConfigMap']],
      ['a.yaml', '- just\n- a list\n', 'ManifestNotAnObject', ['a.yaml', 1]],
      ['a.json', '{"kind": ', 'ManifestInvalid', ['a.json', 1]],
      [
        'bomb.yaml',
        [
          'a: &a ["x","x","x","x","x","x","x","x","x"]',
          ...'bcdefghi'
            .split('')
            .map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
        ].join('\n'),
        'ManifestTooManyAliases',
        ['bomb.yaml', 1, 100],
      ],
    ];
    for (const [file, text, key, args] of table) {
      assert.throws(
        () => parseManifestFile(file, text),
        (error: unknown) => {
          assert.ok(error instanceof TaskError);
          assert.equal(error.key, key);
          assert.deepEqual(error.args.slice(0, args.length), args);
          return true;
        },
        `${file}: ${text}`,
      );
    }
  });

  it('cuts a long parser message to 200 characters', () => {
    const long = `{"kind": "${'x'.repeat(120_000)}`;
    assert.throws(
      () => parseManifestFile('big.json', long),
      (error: unknown) => error instanceof TaskError && String(error.args[2]).length <= 300,
    );
  });

  it('refuses binary files, and reads UTF-8 with or without a byte order mark', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: café }\n';
    assert.equal(manifestText('a.yaml', Buffer.from(text)), text);
    assert.equal(
      manifestText('a.yaml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])),
      text,
    );
    for (const bytes of [
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]),
      Buffer.from(text, 'utf16le'),
      Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xff, 0xfe]),
    ]) {
      assert.throws(
        () => manifestText('bin/app.yaml', bytes),
        (error: unknown) =>
          error instanceof TaskError && error.key === 'ManifestNotText' && error.args[0] === 'bin/app.yaml',
      );
    }
  });

  it('refuses a set of files that holds no object, naming the files', () => {
    const files = [
      { file: 'k8s/empty.yaml', bytes: Buffer.alloc(0) },
      { file: 'k8s/comments.yaml', bytes: Buffer.from('# all of it\n---\n# commented out\n') },
    ];
    assert.throws(
      () => parseManifestFiles(files),
      (error: unknown) =>
        error instanceof TaskError &&
        error.key === 'ManifestsEmpty' &&
        error.args[0] === 'k8s/empty.yaml, k8s/comments.yaml',
    );
    const many = Array.from({ length: 8 }, (_, i) => ({ file: `k8s/${i}.yaml`, bytes: Buffer.alloc(0) }));
    assert.throws(
      () => parseManifestFiles(many),
      (error: unknown) =>
        error instanceof TaskError && /k8s\/4\.yaml and 3 more$/.test(String(error.args[0])),
    );
    const one = [
      ...files,
      {
        file: 'k8s/app.yaml',
        bytes: Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n'),
      },
    ];
    assert.equal(parseManifestFiles(one).length, 1);
  });
});
