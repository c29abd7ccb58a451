/**
 * What Docker@2 reads from a Dockerfile before it builds: the base images its FROM lines
 * name (stages referring to earlier stages excluded) and the registry each one comes from,
 * and the final stage's base image as the real task labels it (docker-common's
 * containerimageutils.getBaseImageName, kept to the same rules).
 */

/** A FROM line's image that is not an earlier stage. */
export interface BaseImage {
  /** 1-based line of the FROM instruction. */
  readonly line: number;
  /** The image as written (`scratch`, `node:20`, `registry.test:5000/base@sha256:...`). */
  readonly image: string;
}

/** Every FROM image that is not an earlier stage's alias, in order; `scratch` included. */
export function baseImages(dockerfile: string): BaseImage[] {
  const aliases = new Set<string>();
  const images: BaseImage[] = [];
  dockerfile.split(/\r?\n/).forEach((text, index) => {
    const from = parseFrom(text);
    if (!from) return;
    if (!aliases.has(from.image.toLowerCase())) images.push({ line: index + 1, image: from.image });
    if (from.alias) aliases.add(from.alias.toLowerCase());
  });
  return images;
}

/** `FROM [--platform=...] image [AS alias]`, or undefined for any other line. */
function parseFrom(text: string): { image: string; alias?: string } | undefined {
  const words = text.trim().split(/\s+/);
  if (words[0]?.toUpperCase() !== 'FROM') return undefined;
  const rest = words.slice(1).filter((word) => !word.startsWith('--'));
  const image = rest[0];
  if (!image) return undefined;
  return { image, alias: rest[1]?.toUpperCase() === 'AS' ? rest[2] : undefined };
}

/**
 * The final stage's base image, aliases followed, without a digest; undefined when it
 * holds a build argument. Same rules as the real task's label `image.base.ref.name`.
 */
export function finalBaseImageName(dockerfile: string): string | undefined {
  const aliasToImage = new Map<string, string>();
  let baseImage = '';
  for (const raw of dockerfile.split(/[\r?\n]/)) {
    const line = raw.trim();
    if (!line.toUpperCase().startsWith('FROM')) continue;
    const [prospect = '', alias] = line
      .substring(4)
      .toLowerCase()
      .split(' as ')
      .map((part) => part.trim());
    if (alias !== undefined) {
      aliasToImage.set(alias, aliasToImage.get(prospect) ?? prospect);
      baseImage = aliasToImage.get(alias)!;
    } else {
      baseImage = aliasToImage.get(prospect) ?? prospect;
    }
  }
  if (!baseImage || baseImage.includes('$')) return undefined;
  return baseImage.split('@')[0];
}

/**
 * The registry host an image reference names (`host[:port]`), Docker's rule: the first
 * path component is a registry when it has a dot or a colon or is `localhost`; otherwise
 * the image is on Docker Hub.
 */
export function registryOfImage(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

/** The host name of `host[:port]` (IPv6 in brackets kept whole). */
export function hostOfRegistry(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1);
  return registry.split(':')[0] ?? registry;
}
