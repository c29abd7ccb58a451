import { createHash } from 'node:crypto';

/**
 * What the promote porcelain needs to know about manifests: their media types and the
 * edges of the content graph (children of an index, blobs of an image, the subject of an
 * artifact). Parsing only reads; the bytes that travel are always the registry's own.
 */

/** Manifest media types the client asks for and copies, byte for byte. */
export const ManifestMediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociArtifact: 'application/vnd.oci.artifact.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** The Accept header for manifest reads: every type above, so no registry converts one. */
export const manifestAccept = Object.values(ManifestMediaType).join(', ');

/** A content descriptor as manifests and the referrers API write it. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Readonly<{ os?: string; architecture?: string; variant?: string }>;
}

/** The graph edges of one manifest. */
export interface ManifestEdges {
  /** Child manifests (an index's `manifests`). */
  readonly children: readonly Descriptor[];
  /** Blobs (config and layers; an artifact's blobs too). */
  readonly blobs: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly artifactType?: string;
}

/** Whether a media type is an index (OCI index or Docker manifest list). */
export function isIndex(mediaType: string): boolean {
  return mediaType === ManifestMediaType.ociIndex || mediaType === ManifestMediaType.dockerList;
}

/** `sha256:<hex>` of the bytes. */
export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Whether text is a sha256 digest. */
export function isDigest(text: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(text);
}

/** Reads the edges of a manifest; throws when the bytes are not a manifest of that type. */
export function manifestEdges(bytes: Buffer, mediaType: string): ManifestEdges {
  const body = JSON.parse(bytes.toString('utf8')) as {
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
    blobs?: Descriptor[];
    subject?: Descriptor;
    artifactType?: string;
  };
  if (isIndex(mediaType)) {
    return {
      children: body.manifests ?? [],
      blobs: [],
      subject: body.subject,
      artifactType: body.artifactType,
    };
  }
  const blobs = [...(body.config ? [body.config] : []), ...(body.layers ?? []), ...(body.blobs ?? [])];
  return {
    children: [],
    blobs,
    subject: body.subject,
    artifactType: body.artifactType ?? body.config?.mediaType,
  };
}

/**
 * The tag under which a registry without the referrers API keeps an index of the
 * referrers of `digest`: `sha256-<hex>` (OCI distribution spec 1.1, "referrers tag schema").
 */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

/** The bytes of a referrers fallback index listing `referrers`, as an OCI index. */
export function referrersIndex(referrers: readonly Descriptor[]): Buffer {
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: ManifestMediaType.ociIndex, manifests: referrers }),
  );
}
