import { isRecord, objectKey, type KubeObject } from '../shared/kubernetes/object';
import {
  parseImageReference,
  replacedRepository,
  repositoryOf,
  type ImageReference,
  type PinnedImage,
} from './image-reference';
import { podSpecOf } from './workloads';

/** One workload as this deploy applied it, and as it was before (undefined when it is new). */
export interface WorkloadChange {
  readonly applied: KubeObject;
  readonly before: KubeObject | undefined;
}

/** The `previousImages` output's lines, and what could not be written as one. */
export interface PreviousImages {
  /** `repository => reference` lines, the form of the `images` input. */
  readonly lines: readonly string[];
  /** Why a container's previous image is left out (one line each), for the log. */
  readonly notes: readonly string[];
}

/**
 * The images the workloads ran before this deploy, written so that the `images` input
 * takes them unchanged with the same manifests and puts them back: for each container of
 * a workload that existed, by name, `<what the manifests' container is matched by> =>
 * <its image before>`. A container an `images` line pinned is matched as that line
 * matched it (the repository left of its `=>`, or its own); any other is listed only when
 * its image changed, matched by the repository its manifest names. A repository that ran
 * two different images before cannot be one line: the first is kept, and a note says so.
 */
export function previousImages(
  workloads: readonly WorkloadChange[],
  pinned: readonly PinnedImage[],
): PreviousImages {
  const byMatch = new Map<string, { line: string; where: string }>();
  const notes: string[] = [];
  for (const { applied, before } of workloads) {
    if (!before) continue;
    const earlier = containerImages(before);
    for (const [name, image] of containerImages(applied)) {
      const previous = earlier.get(name);
      if (previous === undefined) continue;
      const where = `${objectKey(applied)}, container ${name}`;
      const line = pinned.find((candidate) => candidate.text === image);
      if (!line && previous === image) continue;
      const reference = parseImageReference(previous);
      if (!reference || (!reference.tag && !reference.digest)) {
        notes.push(
          `previousImages leaves out ${where}: its image before, '${previous}', has no tag or digest to pin`,
        );
        continue;
      }
      const current = parseImageReference(image);
      const match = line ? matchOf(line) : current && writtenRepository(current);
      if (!match) continue;
      const known = byMatch.get(match);
      if (known && known.line !== `${match} => ${previous}`) {
        notes.push(
          `previousImages keeps ${known.line} (${known.where}); ${where} ran ${previous} before, which the same line cannot also pin`,
        );
        continue;
      }
      if (!known) byMatch.set(match, { line: `${match} => ${previous}`, where });
    }
  }
  return { lines: [...byMatch.values()].map((entry) => entry.line), notes };
}

/** What an `images` line matches containers by, as the user wrote it. */
function matchOf(line: PinnedImage): string {
  return line.replaces?.text ?? replacedRepository(line);
}

/** A reference's repository with its registry, as written (no tag, no digest). */
function writtenRepository(reference: ImageReference): string {
  return reference.text.replace(/@.*$/, '').replace(/:[^:/]*$/, '') || repositoryOf(reference);
}

/** Container name to image, init containers included, of a workload's pod template. */
function containerImages(object: KubeObject): Map<string, string> {
  const spec = podSpecOf(object);
  const images = new Map<string, string>();
  for (const list of ['initContainers', 'containers']) {
    const containers = spec && Array.isArray(spec[list]) ? (spec[list] as unknown[]) : [];
    for (const container of containers.filter(isRecord))
      if (typeof container.name === 'string' && typeof container.image === 'string')
        images.set(container.name, container.image);
  }
  return images;
}
