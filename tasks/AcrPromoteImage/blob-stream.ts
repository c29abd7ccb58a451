import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Descriptor } from '../shared/registry/manifest';

/** Opens the blob's bytes from `offset` on (a Range request past 0). */
export type OpenBlob = (offset: number) => Promise<Readable>;

/** Decides, after a download broke at `offset`, whether to resume; waits before saying yes. */
export type ShouldResume = (offset: number, error: unknown) => Promise<boolean>;

/**
 * A source blob as one stream that survives broken downloads: when the connection drops,
 * it asks for the rest with a Range request and carries on, so the upload it feeds never
 * notices. It hashes as bytes pass and fails instead of ending when the size or digest is
 * wrong, so a bad blob is never committed at the target. Backpressure from the upload
 * pauses the download; nothing is buffered beyond the streams' own high-water marks.
 */
export class VerifiedBlobStream extends Readable {
  private readonly hash = createHash('sha256');
  private offset = 0;
  private source: Readable | undefined;
  private opening = false;
  /** Resumed downloads so far. */
  resumes = 0;

  constructor(
    private readonly blob: Descriptor,
    private readonly open: OpenBlob,
    private readonly shouldResume: ShouldResume,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _read(): void {
    if (this.source) this.source.resume();
    else if (!this.opening) void this.openAt();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.source?.destroy();
    this.source = undefined;
    callback(error);
  }

  private async openAt(): Promise<void> {
    this.opening = true;
    try {
      const source = await this.open(this.offset);
      if (this.destroyed) return void source.destroy();
      this.attach(source);
    } catch (error) {
      await this.broken(error);
    } finally {
      this.opening = false;
    }
  }

  private attach(source: Readable): void {
    this.source = source;
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      this.source = undefined;
      if (error === undefined && this.offset === this.blob.size) this.finish();
      else
        void this.broken(
          error ?? new Error(`the download ended after ${this.offset} of ${this.blob.size} bytes`),
        );
    };
    source.on('data', (chunk: Buffer) => {
      this.offset += chunk.length;
      if (this.offset > this.blob.size) {
        settled = true;
        source.destroy();
        return void this.destroy(
          new Error(`the blob is larger than its descriptor's ${this.blob.size} bytes`),
        );
      }
      this.hash.update(chunk);
      if (!this.push(chunk)) source.pause();
    });
    source.once('end', () => settle());
    source.once('error', (error) => settle(error));
    // A response whose connection drops may close without 'end' or 'error'.
    source.once('close', () =>
      settle(this.offset === this.blob.size ? undefined : new Error('connection closed')),
    );
  }

  private async broken(error: unknown): Promise<void> {
    if (this.destroyed) return;
    if (this.offset > 0 && (await this.shouldResume(this.offset, error))) {
      this.resumes++;
      return this.openAt();
    }
    this.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  private finish(): void {
    const digest = `sha256:${this.hash.digest('hex')}`;
    if (digest !== this.blob.digest) {
      this.destroy(new Error(`the bytes hash to ${digest}, not ${this.blob.digest}`));
    } else this.push(null);
  }
}
