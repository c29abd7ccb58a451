import { crdCleanupFinalizer, foregroundFinalizer, orphanFinalizer } from '../objects';
import { storageKey } from '../discovery';
import { typesFromCrd } from '../resources';
import type { KubeObject } from '../object';
import type { ControllerContext } from './context';

/**
 * The garbage collector's part for owners being deleted with a policy: Orphan takes the
 * owner's references off its dependents, then its `orphan` finalizer; Foreground deletes
 * the dependents that block it (blockOwnerDeletion) first, in the foreground themselves
 * when they own something, and takes its `foregroundDeletion` finalizer once they are
 * gone. (Background needs nothing here: dependents are collected when the owner goes.)
 * A CustomResourceDefinition being deleted has its custom resources deleted first.
 * k8s.io/kubernetes pkg/controller/garbagecollector/garbagecollector.go
 */
export function collectGarbage(context: ControllerContext): void {
  const { objects } = context;
  for (const { key, object: owner } of objects.beingDeleted()) {
    const finalizers: string[] = owner.metadata.finalizers ?? [];
    const uid: string = owner.metadata.uid;
    const ownerType = objects.types.byStorageKey(key);
    if (!ownerType) continue;
    const withoutFinalizer = (finalizer: string): void => {
      const current = objects.find(ownerType, owner.metadata.namespace, owner.metadata.name);
      if (!current) return;
      objects.update(ownerType, {
        ...current,
        metadata: {
          ...current.metadata,
          finalizers: (current.metadata.finalizers ?? []).filter((each: string) => each !== finalizer),
        },
      });
    };
    if (finalizers.includes(crdCleanupFinalizer)) {
      // The CRD finalizer controller: every custom resource of the CRD goes first.
      let remaining = 0;
      for (const type of typesFromCrd(owner)) {
        for (const resource of objects.store.list(storageKey(type))) {
          remaining += 1;
          if (!resource.metadata.deletionTimestamp)
            objects.delete(type, resource.metadata.namespace, resource.metadata.name, {
              propagationPolicy: 'Background',
            });
        }
      }
      if (remaining === 0) withoutFinalizer(crdCleanupFinalizer);
      continue;
    }
    if (finalizers.includes(orphanFinalizer)) {
      for (const { key: dependentKey, object: dependent } of objects.store.dependents(uid)) {
        const type = objects.types.byStorageKey(dependentKey);
        if (!type) continue;
        const references = (dependent.metadata.ownerReferences ?? []) as KubeObject[];
        const kept = references.filter((reference) => reference.uid !== uid);
        objects.update(type, {
          ...dependent,
          metadata: { ...dependent.metadata, ownerReferences: kept.length > 0 ? kept : undefined },
        });
      }
      withoutFinalizer(orphanFinalizer);
      continue;
    }
    if (!finalizers.includes(foregroundFinalizer)) continue;
    const blocking = objects.store
      .dependents(uid)
      .filter(({ object }) =>
        ((object.metadata.ownerReferences ?? []) as KubeObject[]).some(
          (reference) => reference.uid === uid && reference.blockOwnerDeletion,
        ),
      );
    for (const { key: dependentKey, object: dependent } of blocking) {
      if (dependent.metadata.deletionTimestamp) continue;
      const type = objects.types.byStorageKey(dependentKey);
      if (!type) continue;
      const ownsSomething = objects.store.dependents(dependent.metadata.uid).length > 0;
      objects.delete(type, dependent.metadata.namespace, dependent.metadata.name, {
        propagationPolicy: ownsSomething ? 'Foreground' : 'Background',
      });
    }
    if (blocking.length === 0) withoutFinalizer(foregroundFinalizer);
  }
}
