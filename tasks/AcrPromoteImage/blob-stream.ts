import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Descriptor } from '../shared/registry/manifest';

/** Opens the blob's bytes from `offset` on (a Range request past 0). */
export type OpenBlob = (offset: number) => Promise<Readable>;

/** Decides, after a download broke at `offset`, whether to resume; waits before saying yes. */
export type ShouldResume = (offset: number, error: unknown) => Promise<boolean>;

// TLS hands a download over in 16 KiB pieces. Passing each one on costs a socket write, a
// TLS record and a wake-up of the target; gathering them into larger pieces first moves the
// same bytes with a sixteenth of the writes. The copy this costs is far cheaper than the
// writes it saves, and each blob holds at most this much beyond the streams' own buffers.
const batchBytes = 256 * 1024;

/**
 * A source blob as one stream that survives broken downloads: when the connection drops,
 * it asks for the rest with a Range request and carries on, so the upload it feeds never
 * notices. It hashes as bytes pass and fails instead of ending when the size or digest is
 * wrong, so a bad blob is never committed at the target. Backpressure from the upload
 * pauses the download; nothing is buffered beyond the streams' own high-water marks and
 * one batch of `batchBytes`.
 */
export class VerifiedBlobStream extends Readable {
  private readonly hash = createHash('sha256');
  private offset = 0;
  private source: Readable | undefined;
  private opening = false;
  /** Received, not yet hashed or passed on. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Resumed downloads so far. */
  resumes = 0;

  constructor(
    private readonly blob: Descriptor,
    private readonly open: OpenBlob,
    private readonly shouldResume: ShouldResume,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  /** Opens the download now instead of at the first read; what arrives waits, up to the high-water mark. */
  start(): void {
    if (!this.source && !this.opening && !this.destroyed) void this.connect();
  }

  override _read(): void {
    if (this.source) this.source.resume();
    else if (!this.opening) void this.connect();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.source?.destroy();
    this.source = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    callback(error);
  }

  /**
   * Opens the download at the offset reached; after a break (`broken`), first asks whether
   * to resume. While it runs, `_read` opens nothing: there is one download at a time, or a
   * read during the wait before a resume would start a second one at the same offset.
   */
  private async connect(broken?: { error: unknown }): Promise<void> {
    this.opening = true;
    try {
      for (;;) {
        if (broken) {
          if (this.destroyed) return;
          if (this.offset === 0 || !(await this.shouldResume(this.offset, broken.error))) {
            const { error } = broken;
            return void this.destroy(error instanceof Error ? error : new Error(String(error)));
          }
          this.resumes++;
        }
        try {
          const source = await this.open(this.offset);
          if (this.destroyed) return void source.destroy();
          return this.attach(source);
        } catch (error) {
          broken = { error };
        }
      }
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
      // What arrived before a break is good: pass it on, and resume after it.
      this.flush();
      if (error === undefined && this.offset === this.blob.size) this.finish();
      else
        void this.connect({
          error: error ?? new Error(`the download ended after ${this.offset} of ${this.blob.size} bytes`),
        });
    };
    source.on('data', (chunk: Buffer) => {
      // The first bytes go on at once, so the upload starts without waiting for a batch.
      const first = this.offset === 0;
      this.offset += chunk.length;
      if (this.offset > this.blob.size) {
        settled = true;
        source.destroy();
        return void this.destroy(
          new Error(`the blob is larger than its descriptor's ${this.blob.size} bytes`),
        );
      }
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if ((first || this.pendingBytes >= batchBytes) && !this.flush()) source.pause();
    });
    source.once('end', () => settle());
    source.once('error', (error) => settle(error));
    // A response whose connection drops may close without 'end' or 'error'.
    source.once('close', () =>
      settle(this.offset === this.blob.size ? undefined : new Error('connection closed')),
    );
  }

  /** Hashes and passes on what is pending; false when the reader wants no more for now. */
  private flush(): boolean {
    if (this.pendingBytes === 0 || this.destroyed) return true;
    const batch =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.update(batch);
    return this.push(batch);
  }

  private finish(): void {
    const digest = `sha256:${this.hash.digest('hex')}`;
    if (digest !== this.blob.digest) {
      this.destroy(new Error(`the bytes hash to ${digest}, not ${this.blob.digest}`));
    } else this.push(null);
  }
}
