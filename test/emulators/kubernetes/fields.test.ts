import { strict as assert } from 'node:assert';
import { fieldSetOf, fromFieldsV1, mergeApplied, printPath, toFieldsV1 } from './fields';
import { ApiError } from './object';
import { applyConfiguration, recordUpdate } from './managed-fields';
import { jsonPatch, mergePatch, patchTypeOf, strategicMergePatch } from './patch';
import { parseFieldSelector, parseLabelSelector } from './selectors';

// The pure parts of the API server, table by table.
describe('emulated Kubernetes: field sets, apply, patches and selectors', () => {
  const container = (image: string) => ({ name: 'app', image, env: [{ name: 'MODE', value: 'prod' }] });
  const deployment = (replicas: number, image = 'app:1') => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: { replicas, template: { spec: { containers: [container(image)] } } },
  });

  it('prints paths as conflict messages do', () => {
    const cases: [string[], string][] = [
      [['f:spec', 'f:replicas'], '.spec.replicas'],
      [
        ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"app"}', 'f:image'],
        '.spec.template.spec.containers[name="app"].image',
      ],
      [['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}', '.'], '.spec.ports[port=80,protocol="TCP"]'],
    ];
    for (const [elements, printed] of cases) assert.equal(printPath(elements.join('\u0000')), printed);
  });

  it('collects leaves and keyed-list items, leaving identity and status out, and round-trips fieldsV1', () => {
    const set = fieldSetOf({ ...deployment(2), status: { replicas: 2 } });
    const printed = [...set].map(printPath).sort();
    assert.deepEqual(printed, [
      '.metadata.labels.app',
      '.spec.replicas',
      '.spec.template.spec.containers[name="app"]',
      '.spec.template.spec.containers[name="app"].env[name="MODE"]',
      '.spec.template.spec.containers[name="app"].env[name="MODE"].name',
      '.spec.template.spec.containers[name="app"].env[name="MODE"].value',
      '.spec.template.spec.containers[name="app"].image',
      '.spec.template.spec.containers[name="app"].name',
    ]);
    assert.deepEqual(fromFieldsV1(toFieldsV1(set)), set);
  });

  it('merges keyed lists item by item and replaces atomic ones', () => {
    const cases: [unknown, unknown, string, unknown][] = [
      [
        [
          { name: 'a', image: '1' },
          { name: 'b', image: '1' },
        ],
        [{ name: 'b', image: '2' }],
        'containers',
        [
          { name: 'a', image: '1' },
          { name: 'b', image: '2' },
        ],
      ],
      [['x', 'y'], ['z'], 'args', ['z']],
      [{ a: 1, b: { c: 2 } }, { b: { d: 3 } }, '', { a: 1, b: { c: 2, d: 3 } }],
    ];
    for (const [live, config, field, expected] of cases)
      assert.deepEqual(mergeApplied(live, config, field), expected);
  });

  it('applies: shares equal values, conflicts on different ones, and drops what a manager stops applying', () => {
    const created = applyConfiguration(undefined, deployment(2), {
      manager: 'a',
      apiVersion: 'apps/v1',
      force: false,
    });
    const shared = applyConfiguration(created, deployment(2), {
      manager: 'b',
      apiVersion: 'apps/v1',
      force: false,
    });
    assert.equal(shared.metadata.managedFields.length, 2);
    assert.throws(
      () => applyConfiguration(shared, deployment(3), { manager: 'b', apiVersion: 'apps/v1', force: false }),
      (error: ApiError) =>
        error.code === 409 &&
        error.message === 'Apply failed with 1 conflict: conflict with "a": .spec.replicas',
    );
    const withoutLabels = { ...deployment(2), metadata: { name: 'web', namespace: 'default' } };
    const dropped = applyConfiguration(created, withoutLabels, {
      manager: 'a',
      apiVersion: 'apps/v1',
      force: false,
    });
    assert.equal(dropped.metadata.labels?.app, undefined);
  });

  it('gives an update the fields it changed, taking them from their appliers', () => {
    const created = applyConfiguration(undefined, deployment(2), {
      manager: 'a',
      apiVersion: 'apps/v1',
      force: false,
    });
    const scaled = recordUpdate(
      created,
      { ...created, spec: { ...created.spec, replicas: 5 } },
      { manager: 'kubectl-scale', apiVersion: 'apps/v1' },
    );
    const entries = scaled.metadata.managedFields as {
      manager: string;
      operation: string;
      fieldsV1: Record<string, Record<string, unknown>>;
    }[];
    assert.deepEqual(entries.find((each) => each.manager === 'kubectl-scale')!.fieldsV1, {
      'f:spec': { 'f:replicas': {} },
    });
    assert.equal(entries.find((each) => each.manager === 'a')!.fieldsV1['f:spec']!['f:replicas'], undefined);
  });

  it('gives an update a list item only when it adds the item, as kubectl set image shows', () => {
    const created = applyConfiguration(undefined, deployment(2), {
      manager: 'a',
      apiVersion: 'apps/v1',
      force: false,
    });
    const withImage = (object: typeof created, image: string, extra: object[] = []) => ({
      ...object,
      spec: { ...object.spec, template: { spec: { containers: [container(image), ...extra] } } },
    });
    const updated = recordUpdate(created, withImage(created, 'app:2', [{ name: 'sidecar', image: 's:1' }]), {
      manager: 'kubectl-set',
      apiVersion: 'apps/v1',
    });
    const entry = (updated.metadata.managedFields as { manager: string; fieldsV1: unknown }[]).find(
      (each) => each.manager === 'kubectl-set',
    )!;
    // The existing item keeps its owner; only its changed image and the new item move.
    assert.deepEqual(entry.fieldsV1, {
      'f:spec': {
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"app"}': { 'f:image': {} },
              'k:{"name":"sidecar"}': { '.': {}, 'f:image': {}, 'f:name': {} },
            },
          },
        },
      },
    });
  });

  it('names patch types by content type', () => {
    const cases: [string, string | undefined][] = [
      ['application/apply-patch+yaml', 'apply'],
      ['application/merge-patch+json; charset=utf-8', 'merge'],
      ['application/strategic-merge-patch+json', 'strategic'],
      ['application/json-patch+json', 'json'],
      ['application/json', undefined],
    ];
    for (const [contentType, type] of cases) assert.equal(patchTypeOf(contentType), type);
  });

  it('patches as RFC 7386, RFC 6902 and strategic merge do', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2 } }, { a: null, b: { d: 3 } }), { b: { c: 2, d: 3 } });
    assert.deepEqual(
      jsonPatch({ metadata: {}, spec: { list: [1, 2] } }, [
        { op: 'add', path: '/spec/list/-', value: 3 },
        { op: 'replace', path: '/spec/list/0', value: 0 },
        { op: 'add', path: '/metadata/annotations', value: { 'a~b/c': 'x' } },
        { op: 'remove', path: '/metadata/annotations/a~0b~1c' },
      ]),
      { metadata: { annotations: {} }, spec: { list: [0, 2, 3] } },
    );
    assert.deepEqual(
      strategicMergePatch(
        { containers: [container('app:1'), { name: 'side', image: 's:1' }] },
        { containers: [{ name: 'app', image: 'app:2' }] },
      ),
      {
        containers: [
          { ...container('app:1'), image: 'app:2' },
          { name: 'side', image: 's:1' },
        ],
      },
    );
  });

  it('selects by label and field selectors in their URL forms', () => {
    const object = {
      metadata: { name: 'web-1', labels: { app: 'web', tier: 'front' } },
      status: { phase: 'Running' },
    };
    const cases: [string, boolean][] = [
      ['app=web', true],
      ['app==web,tier!=back', true],
      ['app in (web,api),tier notin (db)', true],
      ['app,!legacy', true],
      ['!app', false],
      ['tier=back', false],
    ];
    for (const [selector, expected] of cases)
      assert.equal(parseLabelSelector(selector)(object), expected, selector);
    assert.equal(parseFieldSelector('metadata.name=web-1,status.phase!=Failed')(object), true);
    assert.equal(parseFieldSelector('status.phase=Pending')(object), false);
  });
});
