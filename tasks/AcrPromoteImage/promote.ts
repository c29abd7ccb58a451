import type { RetryPolicy } from '../shared/network';
import type { RegistryClient } from '../shared/registry/client';
import { isRegistryError, RegistryError } from '../shared/registry/errors';
import {
  manifestEdges,
  referrersIndex,
  referrersTag,
  type Descriptor,
  type ManifestEdges,
} from '../shared/registry/manifest';
import { retryDelayMs } from '../shared/retry';
import { TaskError } from '../shared/task-error';
import { toTaskError, type FailureContext } from './failures';
import { VerifiedBlobStream } from './blob-stream';
import { mapLimited, WorkQueue } from './pool';

/**
 * Promotion, the porcelain: resolve the source once, walk the whole graph (index,
 * children, referrers), ask the target what it already has, move only what is missing
 * (mounting within a registry, streaming between registries; a manifest's blobs start
 * moving as soon as the walk finds it missing), then write manifests children first, and
 * tags last. Every byte goes through the wire client.
 */

/** Where an image lives. */
export interface ImageLocation {
  /** Login server: `contoso.azurecr.io` or `host:port`. */
  readonly registry: string;
  readonly repository: string;
}

/** What to promote, where to, and how. */
export interface PromoteRequest {
  readonly source: ImageLocation & { readonly tag?: string; readonly digest?: string };
  readonly target: ImageLocation & { readonly tags: readonly string[] };
  readonly copyReferrers: boolean;
  readonly overwriteTags: boolean;
  /** Blobs in flight at once. */
  readonly concurrency: number;
}

/** The clients and knobs promotion runs with. */
export interface PromoteDeps {
  readonly source: RegistryClient;
  readonly target: RegistryClient;
  readonly retry: RetryPolicy;
  readonly wait: (ms: number) => Promise<void>;
  /** Progress lines for the log (never secrets: digests, names and counts only). */
  readonly log: (line: string) => void;
}

/** A manifest of the graph being promoted. */
export interface PromotedManifest {
  readonly digest: string;
  readonly mediaType: string;
  /** `os/arch[/variant]` for an index's children. */
  readonly platform?: string;
  /** For referrers: their artifact type and the manifest they refer to. */
  readonly artifactType?: string;
  readonly subject?: string;
}

/** What a promotion did. */
export interface PromoteReport {
  readonly digest: string;
  readonly mediaType: string;
  readonly children: readonly PromotedManifest[];
  readonly referrers: readonly PromotedManifest[];
  readonly manifestsWritten: number;
  readonly manifestsPresent: number;
  readonly blobs: BlobCounts;
  readonly tagsWritten: readonly string[];
  readonly tagsUnchanged: readonly string[];
  /** Referrers indexes written under `sha256-<hex>` tags at a target without the referrers API. */
  readonly fallbackIndexesWritten: number;
}

/** Blob traffic, by what happened to each blob. */
export interface BlobCounts {
  copied: number;
  copiedBytes: number;
  mounted: number;
  mountedBytes: number;
  present: number;
  presentBytes: number;
  /** Downloads resumed with a Range request after a broken connection. */
  resumes: number;
}

interface GraphNode {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  readonly edges: ManifestEdges;
  readonly children: GraphNode[];
  readonly referrers: GraphNode[];
  readonly platform?: string;
}

/** Promotes one image; throws a TaskError that says what to fix. */
export async function promote(request: PromoteRequest, deps: PromoteDeps): Promise<PromoteReport> {
  return new Promotion(request, deps).run();
}

class Promotion {
  private readonly blobs: BlobCounts = {
    copied: 0,
    copiedBytes: 0,
    mounted: 0,
    mountedBytes: 0,
    present: 0,
    presentBytes: 0,
    resumes: 0,
  };
  private sourceHasReferrersApi: boolean | undefined;
  /** Settles once the target's tags are known not to block the promotion. */
  private tagsChecked: Promise<void> = Promise.resolve();
  /** Manifests the target already holds. */
  private readonly presentManifests = new Set<string>();
  /** Whether the target holds each manifest: one HEAD per digest. */
  private readonly targetManifests = new Map<string, Promise<boolean>>();
  private readonly queuedBlobs = new Set<string>();
  private readonly blobQueue: WorkQueue<Descriptor>;

  constructor(
    private readonly request: PromoteRequest,
    private readonly deps: PromoteDeps,
  ) {
    this.blobQueue = new WorkQueue(
      request.concurrency,
      (blob) => blob.size,
      (blob) => this.moveBlob(blob),
    );
  }

  async run(): Promise<PromoteReport> {
    const { source, target } = this.request;
    // Both ends first, in parallel: a missing registry or a refused sign-in at the target
    // is reported before any work, and both sign-ins overlap. The source's root manifest
    // is read as soon as the source lets us in.
    // Settled, not raced: a call left in flight would hold a connection open after a failure.
    const reference = source.digest ?? source.tag!;
    const sourcePing = this.at('source', undefined, () => this.deps.source.ping(source.repository, 'pull'));
    const targetPing = this.at('target', undefined, () => this.deps.target.ping(target.repository, 'push'));
    const rootRead = sourcePing.then(() =>
      this.at('source', reference, () => this.deps.source.getManifest(source.repository, reference)),
    );
    const started = await Promise.allSettled([sourcePing, targetPing, rootRead]);
    for (const each of started) if (each.status === 'rejected') throw each.reason;
    const { bytes, descriptor } = await rootRead;
    this.deps.log(
      `Resolved ${source.repository}${source.tag ? `:${source.tag}` : ''} to ${descriptor.digest}.`,
    );
    // The tag check gates every write; the walk reads the source meanwhile.
    this.tagsChecked = this.at('target', undefined, () => this.refuseTagConflicts(descriptor.digest));
    this.tagsChecked.catch(() => undefined);

    // Resolved once: every later read is by digest, so a tag that moves mid-copy changes
    // nothing. Blobs start copying as soon as the walk finds a manifest that needs them.
    let root: GraphNode;
    try {
      root = await this.at('source', reference, () => this.expand(descriptor, bytes, undefined, 0));
      await this.tagsChecked;
    } catch (error) {
      // The copies in flight settle first: none may hold a connection after the task fails.
      this.blobQueue.stop();
      await this.blobQueue.drain().catch(() => undefined);
      throw error;
    }
    await this.blobQueue.drain();

    const manifests = flatten(root);
    const present = this.presentManifests;
    let written = 0;
    for (const node of manifests) {
      if (present.has(node.descriptor.digest)) continue;
      await this.at('target', node.descriptor.digest, () =>
        this.deps.target.putManifest(
          target.repository,
          node.descriptor.digest,
          node.bytes,
          node.descriptor.mediaType,
        ),
      );
      written++;
    }
    const fallbackIndexesWritten = await this.at('target', undefined, () =>
      this.writeFallbackIndexes(manifests),
    );
    const tags = await this.writeTags(root);
    return {
      digest: root.descriptor.digest,
      mediaType: root.descriptor.mediaType,
      children: root.children.map((child) => ({
        digest: child.descriptor.digest,
        mediaType: child.descriptor.mediaType,
        platform: child.platform,
      })),
      referrers: manifests.flatMap((node) =>
        node.referrers.map((referrer) => ({
          digest: referrer.descriptor.digest,
          mediaType: referrer.descriptor.mediaType,
          artifactType: referrer.edges.artifactType,
          subject: node.descriptor.digest,
        })),
      ),
      manifestsWritten: written,
      manifestsPresent: manifests.length - written,
      blobs: this.blobs,
      tagsWritten: tags.written,
      tagsUnchanged: tags.unchanged,
      fallbackIndexesWritten,
    };
  }

  private async expand(
    descriptor: Descriptor,
    bytes: Buffer,
    platform: string | undefined,
    depth: number,
  ): Promise<GraphNode> {
    const edges = manifestEdges(bytes, descriptor.mediaType);
    const checked = this.checkTarget(descriptor.digest, edges);
    // Awaited below; marked handled now in case the walk fails first and never gets there.
    checked.catch(() => undefined);
    const children = await mapLimited(edges.children, this.request.concurrency, (child) =>
      this.fetch(child, platformName(child), depth + 1),
    );
    // Referrers of referrers (a signature on an SBOM) are followed a few levels down, no further.
    const referrerDescriptors =
      this.request.copyReferrers && depth < 4 ? await this.sourceReferrers(descriptor.digest) : [];
    const referrers = await mapLimited(referrerDescriptors, this.request.concurrency, (referrer) =>
      this.fetch(referrer, undefined, depth + 1),
    );
    await checked;
    return { descriptor, bytes, edges, children, referrers, platform };
  }

  private async fetch(
    descriptor: Descriptor,
    platform: string | undefined,
    depth: number,
  ): Promise<GraphNode> {
    // The target is asked about it while its bytes come from the source.
    void this.targetHas(descriptor.digest).catch(() => undefined);
    const fetched = await this.deps.source.getManifest(this.request.source.repository, descriptor.digest);
    return this.expand(fetched.descriptor, fetched.bytes, platform, depth);
  }

  // HEAD every manifest of the graph, not only the root: a rerun after a kill finds the
  // children it already wrote, and an image that shares a child with another skips it.
  private targetHas(digest: string): Promise<boolean> {
    let found = this.targetManifests.get(digest);
    if (!found) {
      found = this.at('target', undefined, () =>
        this.deps.target.headManifest(this.request.target.repository, digest),
      ).then((descriptor) => descriptor !== undefined);
      this.targetManifests.set(digest, found);
    }
    return found;
  }

  // The blobs of a manifest the target lacks go to the pool at once (once the tags are
  // known not to conflict), while the walk goes on.
  private async checkTarget(digest: string, edges: ManifestEdges): Promise<void> {
    if (await this.targetHas(digest)) return void this.presentManifests.add(digest);
    await this.tagsChecked;
    for (const blob of edges.blobs) {
      if (this.queuedBlobs.has(blob.digest)) continue;
      this.queuedBlobs.add(blob.digest);
      this.blobQueue.add(blob);
    }
  }

  // The referrers API first; a registry without it (404) keeps them in an index under the
  // `sha256-<hex>` tag (OCI distribution spec 1.1, "referrers tag schema").
  private async sourceReferrers(digest: string): Promise<Descriptor[]> {
    const { repository } = this.request.source;
    if (this.sourceHasReferrersApi !== false) {
      const found = await this.deps.source.referrers(repository, digest);
      this.sourceHasReferrersApi = found !== undefined;
      if (found) return found;
    }
    try {
      const fallback = await this.deps.source.getManifest(repository, referrersTag(digest));
      return [...manifestEdges(fallback.bytes, fallback.descriptor.mediaType).children];
    } catch (error) {
      if (isRegistryError(error, 'NotFound')) return [];
      throw error;
    }
  }

  private async refuseTagConflicts(digest: string): Promise<void> {
    if (this.request.overwriteTags) return;
    await refuseTagConflicts(this.deps.target, this.request.target, digest);
  }

  // One blob from the pool: HEAD at the target, then mount or copy it if it is missing.
  private async moveBlob(blob: Descriptor): Promise<void> {
    const size = await this.at('target', blob.digest, () =>
      this.deps.target.headBlob(this.request.target.repository, blob.digest),
    );
    if (size !== undefined) {
      this.blobs.present++;
      this.blobs.presentBytes += blob.size;
      return;
    }
    await this.copyBlob(blob);
  }

  // A streamed upload cannot be replayed by the HTTP layer, so a blob that fails part-way
  // is retried here, whole, under the same bounded policy.
  private async copyBlob(blob: Descriptor): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.copyBlobOnce(blob);
      } catch (error) {
        const outcome = isRegistryError(error, 'Throttled')
          ? ({ kind: 'response', status: 429, retryAfter: error.retryAfter } as const)
          : isRegistryError(error, 'Unavailable')
            ? ({ kind: 'networkError' } as const)
            : undefined;
        const delay = outcome ? retryDelayMs(this.deps.retry, attempt, outcome) : undefined;
        if (delay === undefined) throw toTaskError(error, this.context('target', blob.digest));
        await this.deps.wait(delay);
      }
    }
  }

  private async copyBlobOnce(blob: Descriptor): Promise<void> {
    const { source, target } = this.request;
    let upload: URL | undefined;
    if (source.registry === target.registry) {
      const mount = await this.deps.target.mountBlob(target.repository, blob.digest, source.repository);
      if (mount.mounted) {
        this.blobs.mounted++;
        this.blobs.mountedBytes += blob.size;
        return;
      }
      upload = mount.upload;
    }
    const { repository, registry } = this.request.source;
    let resumes = 0;
    const body = new VerifiedBlobStream(
      blob,
      (offset) => this.deps.source.openBlob(repository, blob.digest, offset),
      async (offset) => {
        const delay = retryDelayMs(this.deps.retry, resumes++, { kind: 'networkError' });
        if (delay === undefined) return false;
        this.blobs.resumes++;
        this.deps.log(`Download of ${blob.digest} broke at byte ${offset}; resuming with a Range request.`);
        await this.deps.wait(delay);
        return true;
      },
    );
    // Its failure is read from `errored` below; this keeps one that comes before the
    // upload takes the stream from going unhandled.
    body.on('error', () => undefined);
    try {
      if (!upload) {
        // Between registries the download opens while the target opens the upload session:
        // a round trip less per blob. Its first bytes wait in the stream for the upload.
        body.start();
        upload = await this.deps.target.startUpload(target.repository);
      }
      await this.deps.target.finishUpload(target.repository, upload, blob.digest, blob.size, body);
    } catch (error) {
      // The source side's failure is the one to report, not the upload it cut short.
      const sourceFailure = body.errored;
      if (!sourceFailure || isRegistryError(sourceFailure)) throw sourceFailure ?? error;
      throw new RegistryError(
        /digest|larger/.test(sourceFailure.message) ? 'DigestMismatch' : 'Unavailable',
        {
          registry,
          operation: `GET blob ${repository}@${blob.digest}`,
          message: sourceFailure.message,
          cause: sourceFailure,
        },
      );
    } finally {
      // An upload that failed (or never started) leaves the download paused and connected: close it.
      body.destroy();
    }
    this.blobs.copied++;
    this.blobs.copiedBytes += blob.size;
  }

  private async writeFallbackIndexes(manifests: readonly GraphNode[]): Promise<number> {
    const subjects = manifests.filter((node) => node.referrers.length > 0);
    if (subjects.length === 0) return 0;
    const { repository } = this.request.target;
    const targetHasApi =
      (await this.deps.target.referrers(repository, subjects[0]!.descriptor.digest)) !== undefined;
    if (targetHasApi) return 0;
    let written = 0;
    for (const subject of subjects) {
      const tag = referrersTag(subject.descriptor.digest);
      const existing = await this.deps.target.getManifest(repository, tag).catch((error: unknown) => {
        if (isRegistryError(error, 'NotFound')) return undefined;
        throw error;
      });
      const listed = existing
        ? [...manifestEdges(existing.bytes, existing.descriptor.mediaType).children]
        : [];
      const missing = subject.referrers.filter(
        (referrer) => !listed.some((each) => each.digest === referrer.descriptor.digest),
      );
      if (missing.length === 0) continue;
      const entries = [
        ...listed,
        ...missing.map((referrer) => ({
          mediaType: referrer.descriptor.mediaType,
          digest: referrer.descriptor.digest,
          size: referrer.descriptor.size,
          ...(referrer.edges.artifactType ? { artifactType: referrer.edges.artifactType } : {}),
        })),
      ];
      const bytes = referrersIndex(entries);
      await this.deps.target.putManifest(repository, tag, bytes, 'application/vnd.oci.image.index.v1+json');
      written++;
    }
    return written;
  }

  // Tags last, once everything they point at is in place. The check is repeated here
  // because another pipeline may have moved a tag while blobs were copying.
  private async writeTags(root: GraphNode): Promise<{ written: string[]; unchanged: string[] }> {
    const { repository, registry, tags } = this.request.target;
    const digest = root.descriptor.digest;
    const written: string[] = [];
    const unchanged: string[] = [];
    for (const tag of tags) {
      await this.at('target', tag, async () => {
        const existing = await this.deps.target.headManifest(repository, tag);
        if (existing?.digest === digest) return void unchanged.push(tag);
        if (existing && !this.request.overwriteTags) {
          throw new TaskError('TagExists', [tag, registry + '/' + repository, existing.digest, digest]);
        }
        await this.deps.target.putManifest(repository, tag, root.bytes, root.descriptor.mediaType);
        written.push(tag);
      });
    }
    return { written, unchanged };
  }

  private context(side: FailureContext['side'], reference: string | undefined): FailureContext {
    const location = side === 'source' ? this.request.source : this.request.target;
    return { side, registry: location.registry, repository: location.repository, reference };
  }

  private async at<T>(
    side: FailureContext['side'],
    reference: string | undefined,
    step: () => Promise<T>,
  ): Promise<T> {
    try {
      return await step();
    } catch (error) {
      throw toTaskError(error, this.context(side, reference));
    }
  }
}

/** Every manifest once, in write order: children before their index, referrers after their subject. */
function flatten(root: GraphNode): GraphNode[] {
  const ordered: GraphNode[] = [];
  const seen = new Set<string>();
  const visit = (node: GraphNode): void => {
    if (seen.has(node.descriptor.digest)) return;
    for (const child of node.children) visit(child);
    seen.add(node.descriptor.digest);
    ordered.push(node);
    for (const referrer of node.referrers) visit(referrer);
  };
  visit(root);
  return ordered;
}

function platformName(descriptor: Descriptor): string | undefined {
  const platform = descriptor.platform;
  if (!platform?.os) return undefined;
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/**
 * Fails with TagExists, naming both digests, when a target tag already points at another
 * digest. A tag already at `digest` is fine: that is how a rerun stays a no-op.
 */
export async function refuseTagConflicts(
  target: RegistryClient,
  location: ImageLocation & { readonly tags: readonly string[] },
  digest: string,
): Promise<void> {
  for (const tag of location.tags) {
    const existing = await target.headManifest(location.repository, tag);
    if (existing && existing.digest !== digest) {
      throw new TaskError('TagExists', [
        tag,
        location.registry + '/' + location.repository,
        existing.digest,
        digest,
      ]);
    }
  }
}
