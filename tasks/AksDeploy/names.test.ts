import { strict as assert } from 'node:assert';
import type { KubeObject } from '../shared/kubernetes/object';
import { TaskError } from '../shared/task-error';
import { checkManifestNames, checkManifestNamespace, followsRule, type NameRule } from './names';

const object = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace !== undefined ? { namespace } : {}) },
});
const source = (o: KubeObject) => ({ object: o, file: 'k8s/app.yaml', document: 2 });

/** The key and args of what `check` throws, or undefined. */
function refusal(check: () => void): { key: string; args: readonly (string | number)[] } | undefined {
  try {
    check();
  } catch (error) {
    if (error instanceof TaskError) return { key: error.key, args: error.args };
    throw error;
  }
  return undefined;
}

describe('Kubernetes names', () => {
  it('follows the API server’s rules', () => {
    const table: [NameRule, string, boolean][] = [
      ['dns1123Label', 'orders-staging', true],
      ['dns1123Label', 'a', true],
      ['dns1123Label', '0abc', true],
      ['dns1123Label', 'Bad_Namespace!', false],
      ['dns1123Label', 'orders.staging', false],
      ['dns1123Label', '-orders', false],
      ['dns1123Label', 'orders-', false],
      ['dns1123Label', 'a'.repeat(63), true],
      ['dns1123Label', 'a'.repeat(64), false],
      ['dns1123Label', '', false],
      ['dns1123Subdomain', 'orders.api-v2', true],
      ['dns1123Subdomain', 'orders..api', false],
      ['dns1123Subdomain', 'Orders', false],
      ['dns1123Subdomain', 'a'.repeat(253), true],
      ['dns1123Subdomain', 'a'.repeat(254), false],
      ['dns1035Label', 'api', true],
      ['dns1035Label', '1api', false],
      ['pathSegment', 'system:controller:x', true],
      ['pathSegment', 'Upper_Case ok', true],
      ['pathSegment', '..', false],
      ['pathSegment', 'a/b', false],
      ['pathSegment', '50%', false],
    ];
    for (const [rule, name, valid] of table) assert.equal(followsRule(name, rule), valid, `${rule} ${name}`);
  });

  it('checks each manifest’s name by its kind, and the namespace of namespaced kinds', () => {
    const table: [KubeObject, string | undefined][] = [
      [object('v1', 'ConfigMap', 'settings.v2'), undefined],
      [object('v1', 'ConfigMap', 'My_Settings'), 'ManifestNameNotSubdomain'],
      [object('v1', 'Service', 'api'), undefined],
      [object('v1', 'Service', '2api'), 'ManifestNameNotDns1035Label'],
      [object('v1', 'Namespace', 'orders.staging'), 'ManifestNameNotLabel'],
      [object('batch/v1', 'CronJob', 'a'.repeat(52)), undefined],
      [object('batch/v1', 'CronJob', 'a'.repeat(53)), 'ManifestNameTooLong'],
      [object('batch/v1', 'Job', 'a'.repeat(64)), 'ManifestNameTooLong'],
      [object('rbac.authorization.k8s.io/v1', 'ClusterRole', 'system:reader'), undefined],
      [object('example.azure.test/v1', 'Widget', 'Any Name_1'), undefined],
      [object('example.azure.test/v1', 'Widget', 'a/b'), 'ManifestNameNotPathSegment'],
      [object('apps/v1', 'Deployment', 'api', 'orders'), undefined],
      [object('apps/v1', 'Deployment', 'api', 'Bad_Namespace!'), 'ManifestNamespaceInvalid'],
      // The server ignores the namespace of a cluster-scoped object, and so does the task.
      [object('v1', 'Namespace', 'orders', 'Bad_Namespace!'), undefined],
    ];
    for (const [o, key] of table) {
      assert.equal(refusal(() => checkManifestNames([source(o)]))?.key, key, `${o.kind} ${o.metadata.name}`);
    }
    const long = refusal(() => checkManifestNames([source(object('v1', 'ConfigMap', 'X'.repeat(120_000)))]));
    assert.ok(String(long?.args[2]).length < 300, 'a 120 KB name is quoted whole');
    assert.deepEqual(
      refusal(() => checkManifestNames([source(object('v1', 'ConfigMap', 'My_Settings'))]))?.args,
      ['k8s/app.yaml', 2, 'My_Settings', 'ConfigMap'],
    );
  });

  it('checks the namespace of a custom kind once discovery says it has one', () => {
    const widget = source(object('example.azure.test/v1', 'Widget', 'gear', 'Bad NS'));
    assert.equal(
      refusal(() => checkManifestNames([widget])),
      undefined,
    );
    assert.equal(refusal(() => checkManifestNamespace(widget))?.key, 'ManifestNamespaceInvalid');
  });
});
