import { isRecord, objectKey, type KubeObject } from '../shared/kubernetes/object';
import { parseImageReference, repositoryOf, type ImageReference } from './image-reference';
import { podSpecOf } from './workloads';

/** One image the task replaced. */
export interface ImageReplacement {
  /** `Kind/namespace/name` of the object. */
  readonly object: string;
  readonly container: string;
  readonly from: string;
  readonly to: string;
}

const containerLists = ['initContainers', 'containers'] as const;

/**
 * Replaces every container and init container image whose repository matches one of
 * `pinned` with the pinned reference, in Deployments, StatefulSets, DaemonSets, Jobs,
 * CronJobs, ReplicaSets and Pods. Returns new objects; the inputs are left alone.
 */
export function pinImages(
  objects: readonly KubeObject[],
  pinned: readonly ImageReference[],
): { objects: KubeObject[]; replacements: ImageReplacement[] } {
  const byRepository = new Map(pinned.map((reference) => [repositoryOf(reference), reference.text]));
  const replacements: ImageReplacement[] = [];
  const result = objects.map((original) => {
    if (byRepository.size === 0 || !podSpecOf(original)) return original;
    const object = structuredClone(original);
    const spec = podSpecOf(object)!;
    for (const list of containerLists) {
      const containers = spec[list];
      if (!Array.isArray(containers)) continue;
      for (const container of containers) {
        if (!isRecord(container) || typeof container.image !== 'string') continue;
        const current = parseImageReference(container.image);
        const to = current && byRepository.get(repositoryOf(current));
        if (to === undefined || to === container.image) continue;
        replacements.push({
          object: objectKey(object),
          container: String(container.name),
          from: container.image,
          to,
        });
        container.image = to;
      }
    }
    return object;
  });
  return { objects: result, replacements };
}

/** Adds the named pull secrets to every pod spec that lacks them; returns new objects. */
export function addImagePullSecrets(
  objects: readonly KubeObject[],
  secrets: readonly string[],
): KubeObject[] {
  if (secrets.length === 0) return [...objects];
  return objects.map((original) => {
    if (!podSpecOf(original)) return original;
    const object = structuredClone(original);
    const spec = podSpecOf(object)!;
    const existing = Array.isArray(spec.imagePullSecrets)
      ? (spec.imagePullSecrets as { name?: string }[])
      : [];
    const names = new Set(existing.map((entry) => entry.name));
    spec.imagePullSecrets = [
      ...existing,
      ...secrets.filter((name) => !names.has(name)).map((name) => ({ name })),
    ];
    return object;
  });
}
