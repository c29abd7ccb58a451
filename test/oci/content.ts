import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * A small builder of real OCI content for tests and benchmarks: tar.gz layers, image
 * configs, Docker v2 and OCI manifests, indexes, and artifacts that point at a subject
 * (signatures, SBOMs). Manifests are written with deliberate, non-canonical whitespace so
 * that any client that re-serialises a manifest changes its digest and is caught.
 */

/** The media types the builder writes. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Which family of media types a manifest uses. */
export type Format = 'oci' | 'docker';

/** A content-addressed blob. */
export interface Blob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly bytes: Buffer;
}

/** An OS/architecture pair, as an index lists it. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** A manifest (image, index or artifact) with everything it references, for pushing. */
export interface Manifest extends Blob {
  /** Config and layer blobs (empty for an index). */
  readonly blobs: readonly Blob[];
  /** Child manifests of an index (empty otherwise). */
  readonly children: readonly Manifest[];
  readonly platform?: Platform;
  readonly artifactType?: string;
}

/** Wraps bytes as a blob of `mediaType`. */
export function blob(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, bytes, size: bytes.length, digest: sha256(bytes) };
}

/** `sha256:<hex>` of bytes. */
export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A gzipped tar layer holding `files` (path → content). */
export function tarLayer(files: Readonly<Record<string, string | Buffer>>, format: Format = 'oci'): Blob {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    parts.push(tarHeader(path, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return blob(
    format === 'oci' ? MediaType.ociLayer : MediaType.dockerLayer,
    gzipSync(Buffer.concat(parts), { level: 1 }),
  );
}

/** A layer of `size` random bytes in one file: incompressible, like most real layers. */
export function randomLayer(size: number, format: Format = 'oci'): Blob {
  return tarLayer({ 'data.bin': randomBytes(size) }, format);
}

/** An image config for a platform; `label` makes otherwise equal configs differ. */
export function imageConfig(platform: Platform, layers: readonly Blob[], format: Format, label = ''): Blob {
  const config = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Labels: { 'test.label': label } },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
  };
  return blob(format === 'oci' ? MediaType.ociConfig : MediaType.dockerConfig, json(config));
}

/** An image manifest for one platform. */
export function imageManifest(options: {
  readonly format: Format;
  readonly platform: Platform;
  readonly layers: readonly Blob[];
  readonly label?: string;
}): Manifest {
  const config = imageConfig(options.platform, options.layers, options.format, options.label);
  const mediaType = options.format === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest;
  const body = {
    schemaVersion: 2,
    mediaType,
    config: descriptor(config),
    layers: options.layers.map(descriptor),
  };
  return {
    ...blob(mediaType, json(body)),
    blobs: [config, ...options.layers],
    children: [],
    platform: options.platform,
  };
}

/** An index (OCI) or manifest list (Docker) over per-platform manifests. */
export function imageIndex(format: Format, manifests: readonly Manifest[]): Manifest {
  const mediaType = format === 'oci' ? MediaType.ociIndex : MediaType.dockerList;
  const body = {
    schemaVersion: 2,
    mediaType,
    manifests: manifests.map((child) => ({ ...descriptor(child), platform: child.platform })),
  };
  return { ...blob(mediaType, json(body)), blobs: [], children: manifests };
}

/** An OCI artifact (a signature, an SBOM) whose `subject` is another manifest. */
export function artifact(artifactType: string, subject: Blob, payload: Blob): Manifest {
  const empty = blob(MediaType.ociEmpty, Buffer.from('{}'));
  const body = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType,
    config: descriptor(empty),
    layers: [descriptor(payload)],
    subject: descriptor(subject),
    annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
  };
  return {
    ...blob(MediaType.ociManifest, json(body)),
    blobs: [empty, payload],
    children: [],
    artifactType,
  };
}

/** A signature artifact over `subject`, in the shape notation writes. */
export function signature(subject: Blob): Manifest {
  const payload = blob(
    'application/jose+json',
    Buffer.from(JSON.stringify({ signed: subject.digest, nonce: randomBytes(8).toString('hex') })),
  );
  return artifact('application/vnd.cncf.notary.signature', subject, payload);
}

/** An SPDX SBOM artifact over `subject`. */
export function sbom(subject: Blob): Manifest {
  const payload = blob(
    'application/spdx+json',
    Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', name: subject.digest, packages: [] })),
  );
  return artifact('application/spdx+json', subject, payload);
}

/** A descriptor of a blob or manifest. */
export function descriptor(target: Blob): { mediaType: string; digest: string; size: number } {
  return { mediaType: target.mediaType, digest: target.digest, size: target.size };
}

/** Options for a ready-made multi-platform image. */
export interface MultiArchOptions {
  readonly format?: Format;
  readonly platforms?: readonly Platform[];
  /** Layers every platform shares (a base image). */
  readonly sharedLayerSizes?: readonly number[];
  /** Layers each platform has on its own. */
  readonly ownLayerSizes?: readonly number[];
  /** Makes two images built with the same options differ. */
  readonly label?: string;
}

/** The two platforms most multi-arch images ship. */
export const commonPlatforms: readonly Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
];

/** A multi-platform image: shared base layers plus each platform's own layers, under one index. */
export function multiArchImage(options: MultiArchOptions = {}): Manifest {
  const format = options.format ?? 'oci';
  const shared = (options.sharedLayerSizes ?? [2048, 4096]).map((size) => randomLayer(size, format));
  const children = (options.platforms ?? commonPlatforms).map((platform) =>
    imageManifest({
      format,
      platform,
      layers: [...shared, ...(options.ownLayerSizes ?? [1024]).map((size) => randomLayer(size, format))],
      label: options.label ?? randomBytes(4).toString('hex'),
    }),
  );
  return imageIndex(format, children);
}

/** A single-platform image. */
export function singleArchImage(
  format: Format = 'oci',
  layerSizes: readonly number[] = [2048, 1024],
): Manifest {
  return imageManifest({
    format,
    platform: commonPlatforms[0]!,
    layers: layerSizes.map((size) => randomLayer(size, format)),
    label: randomBytes(4).toString('hex'),
  });
}

/** Every distinct blob under a manifest, each once. */
export function allBlobs(root: Manifest): Blob[] {
  const byDigest = new Map<string, Blob>();
  const visit = (manifest: Manifest): void => {
    for (const each of manifest.blobs) byDigest.set(each.digest, each);
    for (const child of manifest.children) visit(child);
  };
  visit(root);
  return [...byDigest.values()];
}

// Three-space indentation, as the Docker CLI writes: valid JSON that no minimal
// serialiser reproduces, so a re-serialised manifest shows up as a new digest.
function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, 3));
}

function tarHeader(path: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => {
    header.write(value, offset, length, 'ascii');
  };
  const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, '0') + '\0';
  field(0, 100, path);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(size, 12));
  field(136, 12, octal(1_700_000_000, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  field(148, 8, checksum.toString(8).padStart(6, '0') + '\0 ');
  return header;
}
