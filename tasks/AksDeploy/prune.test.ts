import { strict as assert } from 'node:assert';
import type { ResourceInfo } from '../shared/kubernetes/discovery';
import { TaskError } from '../shared/task-error';
import { checkPruneLimit } from './prune';

const configMaps: ResourceInfo = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};
const candidates = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    info: configMaps,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'orders' } },
  }));

describe('prune limit', () => {
  it('refuses to delete more than the deploy applies, unless told a number or unlimited', () => {
    // [to delete, applying, limit, refused with]
    const table: [number, number, Parameters<typeof checkPruneLimit>[2], string | undefined][] = [
      [0, 0, { kind: 'applied' }, undefined],
      [2, 2, { kind: 'applied' }, undefined],
      [3, 2, { kind: 'applied' }, 'PruneMoreThanApplied'],
      [3, 2, { kind: 'count', count: 3 }, undefined],
      [4, 2, { kind: 'count', count: 3 }, 'PruneLimitExceeded'],
      [1, 9, { kind: 'count', count: 0 }, 'PruneLimitExceeded'],
      [500, 1, { kind: 'unlimited' }, undefined],
    ];
    for (const [count, applying, limit, key] of table) {
      let refused: string | undefined;
      try {
        checkPruneLimit(candidates(count), applying, limit);
      } catch (error) {
        assert.ok(error instanceof TaskError);
        refused = error.key;
      }
      assert.equal(refused, key, JSON.stringify({ count, applying, limit }));
    }
  });

  it('names the first five objects and counts the rest', () => {
    assert.throws(
      () => checkPruneLimit(candidates(7), 1, { kind: 'applied' }),
      (error: unknown) =>
        error instanceof TaskError &&
        assert.deepEqual(error.args, [
          7,
          'ConfigMap orders/c0, ConfigMap orders/c1, ConfigMap orders/c2, ConfigMap orders/c3, ConfigMap orders/c4 and 2 more',
          1,
          7,
        ]) === undefined,
    );
  });
});
