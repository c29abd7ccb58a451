import { quoted } from '../shared/known-secrets';
import { isRecord, type KubeObject } from '../shared/kubernetes/object';
import { TaskError } from '../shared/task-error';
import { parseImageReference, replaces, type PinnedImage } from './image-reference';
import type { CheckedKustomization, KustomizeImage } from './kustomization';
import { podSpecOf } from './workloads';

const containerLists = ['initContainers', 'containers'] as const;

/** Every container and init container image of the objects' pod specs, as written. */
function containerImages(objects: readonly KubeObject[]): string[] {
  return objects.flatMap((object) => {
    const spec = podSpecOf(object);
    return containerLists.flatMap((list) => {
      const containers = spec?.[list];
      if (!Array.isArray(containers)) return [];
      return containers.flatMap((container: unknown) =>
        isRecord(container) && typeof container.image === 'string' ? [container.image] : [],
      );
    });
  });
}

/** An image's name as Kustomize matches it: the reference without its tag and digest. */
function imageName(image: string): string {
  const withoutDigest = image.split('@', 1)[0]!;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The most image names an error line lists. */
const listedNames = 5;

/**
 * Checks on the rendered objects what the named kustomization's own `images:` entries did,
 * since Kustomize says nothing when an entry matches no container (it compares the name
 * exactly, registry included). An entry with a digest that no rendered container carries is
 * an error naming the file, the line and the images the containers use. An entry that sets
 * only a tag, when the `images` input does not replace the image it renders, is returned as
 * a warning: a tag can be pushed again, so the deploy is not pinned.
 */
export function checkKustomizeImages(
  kustomization: CheckedKustomization,
  objects: readonly KubeObject[],
  pinned: readonly PinnedImage[],
): TaskError[] {
  const images = containerImages(objects);
  const warnings: TaskError[] = [];
  for (const entry of kustomization.images) {
    if (entry.digest) {
      if (!images.some((image) => image.endsWith(`@${entry.digest}`)))
        throw unusedEntry(kustomization.file, entry, images);
      continue;
    }
    if (!entry.newTag) continue;
    const rendered = `${entry.newName ?? entry.name}:${entry.newTag}`;
    const reference = parseImageReference(rendered);
    const used = images.includes(rendered);
    const pinnedByInput = reference !== undefined && pinned.some((image) => replaces(image, reference));
    if (used && !pinnedByInput)
      warnings.push(
        new TaskError('KustomizeImageTagOnly', [
          kustomization.file,
          entry.line,
          quoted(entry.name),
          quoted(entry.newTag),
        ]),
      );
  }
  return warnings;
}

function unusedEntry(file: string, entry: KustomizeImage, images: readonly string[]): TaskError {
  const names = [...new Set(images.map(imageName))].sort();
  if (names.length === 0)
    return new TaskError('KustomizeImageUnusedNoContainers', [file, entry.line, quoted(entry.name)]);
  const more = names.length > listedNames ? ` (and ${names.length - listedNames} more)` : '';
  return new TaskError('KustomizeImageUnused', [
    file,
    entry.line,
    quoted(entry.name),
    `${names
      .slice(0, listedNames)
      .map((name) => quoted(name))
      .join(', ')}${more}`,
  ]);
}
