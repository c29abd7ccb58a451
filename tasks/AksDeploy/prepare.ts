import type { ManifestObject } from './manifests';
import type { PinnedImage } from './image-reference';
import { checkManifestNames } from './names';
import { addImagePullSecrets, checkImagesUsed, pinImages, type ImageReplacement } from './pin-images';

/**
 * The manifests as they will be applied, decided before the task reaches any cluster:
 * names checked against the API server's rules, pull secrets added to every pod
 * template, images pinned. An `images` line that would replace nothing is an error.
 */
export function prepareManifests(
  manifests: readonly ManifestObject[],
  images: readonly PinnedImage[],
  imagePullSecrets: readonly string[],
): { manifests: ManifestObject[]; replacements: ImageReplacement[] } {
  checkManifestNames(manifests);
  const objects = manifests.map((m) => m.object);
  checkImagesUsed(objects, images);
  const pinned = pinImages(addImagePullSecrets(objects, imagePullSecrets), images);
  return {
    manifests: manifests.map((source, index) => ({ ...source, object: pinned.objects[index]! })),
    replacements: pinned.replacements,
  };
}
