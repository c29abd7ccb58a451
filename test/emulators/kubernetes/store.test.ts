import { strict as assert } from 'node:assert';
import type { KubeObject } from './object';
import { ObjectStore } from './store';

// The store's indexes stand in for the controllers' informer indexers: they must follow
// every put and remove, or a controller reads a stale picture.
describe('emulated Kubernetes object store (indexes)', () => {
  const pod = (name: string, owners: string[], namespace = 'shop'): KubeObject => ({
    metadata: {
      name,
      namespace,
      uid: `uid-${namespace}-${name}`,
      ownerReferences: owners.map((uid) => ({ uid, controller: true })),
    },
  });
  const names = (entries: readonly { object: KubeObject }[]) =>
    entries.map((entry) => `${entry.object.metadata.namespace}/${entry.object.metadata.name}`);

  it('finds dependents by owner uid, by namespace and name, and follows owner changes and removals', () => {
    const store = new ObjectStore();
    store.put('/pods', pod('b', ['rs-1']));
    store.put('/pods', pod('a', ['rs-1']));
    store.put('/pods', pod('c', ['rs-2']));
    store.put('/pods', pod('a', ['rs-1'], 'other'));
    assert.deepEqual(names(store.dependents('rs-1')), ['other/a', 'shop/a', 'shop/b']);
    store.put('/pods', pod('b', ['rs-2']));
    assert.deepEqual(names(store.dependents('rs-1')), ['other/a', 'shop/a']);
    assert.deepEqual(names(store.dependents('rs-2')), ['shop/b', 'shop/c']);
    store.remove('/pods', 'shop', 'c');
    assert.deepEqual(names(store.dependents('rs-2')), ['shop/b']);
    assert.deepEqual(store.dependents('nobody'), []);
  });

  it('finds objects by uid and events by the uid of what they are about', () => {
    const store = new ObjectStore();
    store.put('/pods', pod('a', []));
    store.put('/events', {
      metadata: { name: 'a.1', namespace: 'shop', uid: 'event-1' },
      involvedObject: { uid: 'uid-shop-a' },
    });
    assert.deepEqual(names(store.withUids(['uid-shop-a', 'event-1', 'gone'])), ['shop/a.1', 'shop/a']);
    assert.deepEqual(names(store.eventsAbout('uid-shop-a')), ['shop/a.1']);
    store.remove('/events', 'shop', 'a.1');
    store.remove('/pods', 'shop', 'a');
    assert.deepEqual(store.eventsAbout('uid-shop-a'), []);
    assert.deepEqual(store.withUids(['uid-shop-a']), []);
  });

  it('lists in namespace and name order, as paths sort, after inserts and deletes', () => {
    const store = new ObjectStore();
    for (const [namespace, name] of [
      ['a', 'z'],
      ['a-b', 'y'],
      ['a', 'x'],
      ['b', 'w'],
    ] as const)
      store.put('/configmaps', { metadata: { name, namespace, uid: `${namespace}/${name}` } });
    const listed = () => store.list('/configmaps').map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    assert.deepEqual(listed(), ['a-b/y', 'a/x', 'a/z', 'b/w']);
    store.remove('/configmaps', 'a', 'x');
    store.put('/configmaps', { metadata: { name: 'a', namespace: 'a', uid: 'a/a' } });
    assert.deepEqual(listed(), ['a-b/y', 'a/a', 'a/z', 'b/w']);
    assert.deepEqual(
      store.list('/configmaps', 'a').map((o) => o.metadata.name),
      ['a', 'z'],
    );
  });
});
