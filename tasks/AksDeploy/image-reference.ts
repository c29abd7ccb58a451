import { excerpt } from '../shared/redaction';
import { TaskError } from '../shared/task-error';
import type { NumberedLine } from './config';

/**
 * A container image reference split the way the container runtime reads it
 * (distribution/reference): the first path component is a registry only when it holds a
 * `.` or a `:` or is `localhost`, so `registry:5000/app:1.0` has a port, not a tag.
 * Docker Hub names are normalised (`nginx` is `docker.io/library/nginx`) so that any
 * spelling of the same repository matches.
 */
export interface ImageReference {
  /** Lower-case registry host, with its port when given; `docker.io` when none is. */
  readonly registry: string;
  /** The repository path inside the registry, e.g. `orders/api` or `library/nginx`. */
  readonly path: string;
  readonly tag?: string;
  /** `sha256:<hex>` and the like. */
  readonly digest?: string;
  /** The text as written. */
  readonly text: string;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const hostPattern =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/;

/** Parses a reference; undefined when it is not one. */
export function parseImageReference(text: string): ImageReference | undefined {
  let rest = text.trim();
  if (rest === '' || /\s/.test(rest)) return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) return undefined;
  }
  const components = rest.split('/');
  const first = components[0]!;
  const hasRegistry =
    components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first.toLowerCase() : 'docker.io';
  const pathParts = hasRegistry ? components.slice(1) : components;
  if (hasRegistry && !hostPattern.test(first)) return undefined;
  if (pathParts.length === 0 || !pathParts.every((part) => pathComponent.test(part))) return undefined;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  const path =
    registry === 'docker.io' && pathParts.length === 1 ? `library/${pathParts[0]}` : pathParts.join('/');
  return { registry, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), text: text.trim() };
}

/** The registry and path that identify a repository, for matching. */
export function repositoryOf(reference: ImageReference): string {
  return `${reference.registry}/${reference.path}`;
}

/** A reference from the `images` input, with the line it came from. */
export interface PinnedImage extends ImageReference {
  readonly line: number;
  /**
   * The repository a `<repository> => <reference>` line replaces, when it is not the
   * reference's own. Without a registry it matches that path in any registry.
   */
  readonly replaces?: { readonly text: string; readonly registry?: string; readonly path: string };
}

/** The key a line is known by: the repository it replaces. */
export function replacedRepository(image: PinnedImage): string {
  if (!image.replaces) return repositoryOf(image);
  return image.replaces.registry ? `${image.replaces.registry}/${image.replaces.path}` : image.replaces.path;
}

/** Whether a container's image is one a line replaces. */
export function replaces(image: PinnedImage, container: ImageReference): boolean {
  if (!image.replaces) return repositoryOf(container) === repositoryOf(image);
  if (image.replaces.registry) return repositoryOf(container) === replacedRepository(image);
  return writtenPath(container) === image.replaces.path;
}

/** A repository's path as a user writes it: Docker Hub's `library/` left out. */
function writtenPath(reference: ImageReference): string {
  return reference.registry === 'docker.io' ? reference.path.replace(/^library\//, '') : reference.path;
}

/**
 * Parses the `images` input, one line each: a pinned reference (with a tag or a digest; a
 * bare repository would pin nothing) replaces the images of its own repository, and
 * `<repository> => <pinned reference>` replaces the images of the repository on the left,
 * a path alone matching it in any registry (so manifests that name `orders/api` get each
 * environment's own registry). Two lines for one repository are ambiguous; the same line
 * twice is kept once, with its first line number.
 */
export function parseImageLines(lines: readonly NumberedLine[]): PinnedImage[] {
  const byRepository = new Map<string, PinnedImage>();
  for (const { line, text } of lines) {
    const arrow = text.indexOf('=>');
    const target = arrow < 0 ? text : text.slice(arrow + 2);
    const reference = parseImageReference(target);
    if (!reference || (!reference.tag && !reference.digest)) {
      throw new TaskError('ImageLineInvalid', [line, excerpt(text, 200)]);
    }
    let image: PinnedImage = { ...reference, line };
    if (arrow >= 0) {
      const left = text.slice(0, arrow).trim();
      const source = parseImageReference(left);
      if (!source || source.tag || source.digest) {
        throw new TaskError('ImageLineSourceInvalid', [line, excerpt(left, 200)]);
      }
      const explicitRegistry = /^[^/]*[.:][^/]*\//.test(left) || /^localhost\//.test(left);
      image = {
        ...image,
        replaces: {
          text: left,
          ...(explicitRegistry ? { registry: source.registry } : {}),
          path: explicitRegistry ? source.path : writtenPath(source),
        },
      };
    }
    const repository = replacedRepository(image);
    const earlier = byRepository.get(repository);
    if (earlier && earlier.text !== image.text) {
      throw new TaskError('ImageLineDuplicate', [line, repository, earlier.text, image.text]);
    }
    if (!earlier) byRepository.set(repository, image);
  }
  return [...byRepository.values()];
}
