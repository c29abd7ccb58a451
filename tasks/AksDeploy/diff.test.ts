import { strict as assert } from 'node:assert';
import type { KubeObject } from '../shared/kubernetes/object';
import { annotate, withoutTraceabilityFields } from './annotations';
import { describeChanges, fieldChanges } from './diff';

const deployment = (image: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'api',
    namespace: 'orders',
    resourceVersion: String(replicas * 7),
    generation: replicas,
    managedFields: [{ manager: 'AksDeploy' }],
  },
  spec: {
    replicas,
    template: {
      spec: {
        containers: [
          { name: 'api', image, env: [{ name: 'MODE', value: 'staging' }] },
          ...(extra.sidecar ? [{ name: 'proxy', image: 'envoy:1.30' }] : []),
        ],
      },
    },
  },
  status: { readyReplicas: replicas },
});

describe('AksDeploy dry-run diff', () => {
  it('lists the fields that would change, by container name, without server-written fields', () => {
    const changes = fieldChanges(deployment('api:1.0', 2), deployment('api:2.0', 3, { sidecar: true }));
    assert.deepEqual(describeChanges(changes), [
      '  ~ .spec.replicas: 2 -> 3',
      '  ~ .spec.template.spec.containers[name="api"].image: "api:1.0" -> "api:2.0"',
      '  + .spec.template.spec.containers[name="proxy"].image: "envoy:1.30"',
      '  + .spec.template.spec.containers[name="proxy"].name: "proxy"',
    ]);
    assert.deepEqual(fieldChanges(deployment('api:1.0', 2), deployment('api:1.0', 2)), []);
  });

  it('shows removed fields and lists without names by position', () => {
    const before: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { mode: 'staging', old: 'x' },
      args: ['a', 'b'],
    };
    const after: KubeObject = { ...before, data: { mode: 'production' }, args: ['a', 'c'] };
    assert.deepEqual(describeChanges(fieldChanges(before, after)), [
      '  ~ .args[1]: "b" -> "c"',
      '  ~ .data.mode: "staging" -> "production"',
      '  - .data.old',
    ]);
  });

  it('never shows Secret data or a last-applied annotation, only that they change', () => {
    const secret = (password: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 's',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"data":{"p":"${password}"}}` },
      },
      data: { password: Buffer.from(password).toString('base64') },
    });
    const lines = describeChanges(fieldChanges(secret('hunter2'), secret('correct-horse')));
    assert.deepEqual(lines, [
      '  ~ .data.password (value hidden)',
      '  ~ .metadata.annotations.kubectl.kubernetes.io/last-applied-configuration (value hidden)',
    ]);
    assert.doesNotMatch(lines.join('\n'), /hunter2|correct-horse|aHVudGVyMg/);
  });

  it('shortens long values and caps the lines per object', () => {
    const before: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
    const data = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v'.repeat(100)]),
    );
    const lines = describeChanges(fieldChanges(before, { ...before, data }));
    assert.equal(lines.length, 21);
    assert.equal(lines[20], '  ... and 6 more fields');
    assert.ok(lines[1]!.length < 100, lines[1]);
  });
});

describe('AksDeploy annotations the server will not take', () => {
  const annotated = annotate(deployment('api:1.0', 2), {
    'azure-pipelines/run': '20250501.3',
    'azure-pipelines/project': 'Orders',
  });
  const annotationsAt = (object: KubeObject | undefined, template: boolean) => {
    const spec = object?.spec as { template: { metadata?: { annotations?: Record<string, string> } } };
    return template ? spec.template.metadata?.annotations : object?.metadata.annotations;
  };

  it('drops a conflicting annotation at the place the conflict names, and only there', () => {
    const trimmed = withoutTraceabilityFields(annotated, [
      '.spec.template.metadata.annotations.azure-pipelines/run',
    ]);
    assert.deepEqual(annotationsAt(trimmed, true), { 'azure-pipelines/project': 'Orders' });
    assert.deepEqual(Object.keys(annotationsAt(trimmed, false) ?? {}), [
      'azure-pipelines/run',
      'azure-pipelines/project',
    ]);
    assert.equal(Object.keys(annotationsAt(annotated, true) ?? {}).length, 2, 'the input is not changed');
  });

  it('drops all of ours at a place a validation error names, and keeps the manifest’s own', () => {
    const own = structuredClone(annotated);
    own.metadata.annotations!['team'] = 'payments';
    const trimmed = withoutTraceabilityFields(own, ['metadata.annotations']);
    assert.deepEqual(annotationsAt(trimmed, false), { team: 'payments' });
  });

  it('refuses when a field is not one of ours, so the failure stays a failure', () => {
    for (const field of ['.spec.replicas', '.metadata.annotations.team', '.metadata.labels.app']) {
      assert.equal(withoutTraceabilityFields(annotated, [field]), undefined, field);
    }
  });
});
