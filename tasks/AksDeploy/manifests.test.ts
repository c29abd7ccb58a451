import { strict as assert } from 'node:assert';
import { TaskError } from '../shared/task-error';
import { parseManifestFile } from './manifests';

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
});
