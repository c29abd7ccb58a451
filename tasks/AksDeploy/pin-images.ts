import { isRecord, objectKey, type KubeObject } from '../shared/kubernetes/object';
import { excerpt } from '../shared/redaction';
import { TaskError, TaskErrors } from '../shared/task-error';
import {
  parseImageReference,
  replacedRepository,
  replaces,
  repositoryOf,
  type ImageReference,
  type PinnedImage,
} from './image-reference';
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
 * Replaces every container and init container image that a line of `pinned` replaces
 * (its repository, or the one left of its `=>`) with the pinned reference, in Deployments,
 * StatefulSets, DaemonSets, Jobs, CronJobs, ReplicaSets and Pods. Returns new objects; the
 * inputs are left alone.
 */
export function pinImages(
  objects: readonly KubeObject[],
  pinned: readonly PinnedImage[],
): { objects: KubeObject[]; replacements: ImageReplacement[] } {
  const replacements: ImageReplacement[] = [];
  const result = objects.map((original) => {
    if (pinned.length === 0 || !podSpecOf(original)) return original;
    const object = structuredClone(original);
    const spec = podSpecOf(object)!;
    for (const list of containerLists) {
      const containers = spec[list];
      if (!Array.isArray(containers)) continue;
      for (const container of containers) {
        if (!isRecord(container) || typeof container.image !== 'string') continue;
        const current = parseImageReference(container.image);
        const to = current && pinned.find((image) => replaces(image, current))?.text;
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

/** The most repositories an error line lists as what the containers use instead. */
const listedRepositories = 5;

/**
 * Every `images` line must replace something: a line whose repository no container or
 * init container in the manifests uses is an error naming the line and the repositories
 * the containers do use (the ones with the same image name first), so that a registry or
 * path that differs is plain to see. Several such lines are one error line each.
 */
export function checkImagesUsed(objects: readonly KubeObject[], pinned: readonly PinnedImage[]): void {
  if (pinned.length === 0) return;
  const used = new Set<string>();
  const references: ImageReference[] = [];
  for (const object of objects) {
    const spec = podSpecOf(object);
    for (const list of containerLists) {
      const containers = spec?.[list];
      if (!Array.isArray(containers)) continue;
      for (const container of containers) {
        if (!isRecord(container) || typeof container.image !== 'string') continue;
        const reference = parseImageReference(container.image);
        used.add(reference ? repositoryOf(reference) : container.image);
        if (reference) references.push(reference);
      }
    }
  }
  const problems = pinned
    .filter((image) => !references.some((reference) => replaces(image, reference)))
    .map((image) => {
      const text = excerpt(image.replaces ? `${image.replaces.text} => ${image.text}` : image.text, 200);
      if (used.size === 0) return new TaskError('ImageLineUnusedNoContainers', [image.line, text]);
      const name = image.path.split('/').pop() ?? '';
      const sameName = (repository: string) => (repository.split('/').pop() === name ? 0 : 1);
      const closest = [...used]
        .sort((a, b) => sameName(a) - sameName(b) || a.localeCompare(b))
        .slice(0, listedRepositories)
        .map((repository) => excerpt(repository, 200));
      const more = used.size > listedRepositories ? ` (and ${used.size - listedRepositories} more)` : '';
      return new TaskError('ImageLineUnused', [
        image.line,
        text,
        replacedRepository(image),
        `${closest.join(', ')}${more}`,
      ]);
    });
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new TaskErrors(problems);
}
