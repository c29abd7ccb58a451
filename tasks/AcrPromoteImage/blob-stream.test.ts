import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as tick } from 'node:timers/promises';
import { VerifiedBlobStream } from './blob-stream';
import { WorkQueue } from './pool';

const kib = 1024;

function descriptorOf(bytes: Buffer) {
  return {
    mediaType: 'application/octet-stream',
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
  };
}

/** A download in 16 KiB pieces, as TLS hands them over, that breaks after `breakAt` bytes. */
function download(bytes: Buffer, from: number, breakAt = Infinity): Readable {
  let at = from;
  return new Readable({
    read() {
      if (at >= breakAt) return void this.destroy(new Error('socket hang up'));
      if (at >= bytes.length) return void this.push(null);
      const end = Math.min(at + 16 * kib, bytes.length, breakAt);
      this.push(bytes.subarray(at, end));
      at = end;
    },
  });
}

/** A consumer that takes its time, so the stream's reads come while a resume is pending. */
function slowSink(received: Buffer[]): Writable {
  return new Writable({
    highWaterMark: 16 * kib,
    write(chunk: Buffer, _encoding, done) {
      received.push(chunk);
      setImmediate(done);
    },
  });
}

describe('VerifiedBlobStream', () => {
  const breaks = [
    { title: 'in the first piece', breaks: [10 * kib] },
    { title: 'mid-batch', breaks: [300 * kib] },
    { title: 'twice', breaks: [100 * kib, 700 * kib] },
  ];
  for (const row of breaks) {
    it(`resumes a download that breaks ${row.title}, one download at a time, from the offset reached`, async () => {
      const bytes = randomBytes(1024 * kib);
      const opens: number[] = [];
      let open = 0;
      const stream = new VerifiedBlobStream(
        descriptorOf(bytes),
        async (offset) => {
          opens.push(offset);
          open++;
          assert.equal(open, 1, 'a second download while one is open');
          const source = download(bytes, offset, row.breaks[opens.length - 1]);
          source.once('close', () => open--);
          return source;
        },
        async () => {
          // The wait before a resume: reads keep coming meanwhile.
          for (let i = 0; i < 20; i++) await tick();
          return true;
        },
      );
      const received: Buffer[] = [];
      await pipeline(stream, slowSink(received));
      assert.deepEqual(opens, [0, ...row.breaks]);
      assert.equal(stream.resumes, row.breaks.length);
      assert.ok(Buffer.concat(received).equals(bytes));
    });
  }

  it('passes the first piece on at once and the rest in batches, not piece by piece', async () => {
    const bytes = randomBytes(2048 * kib);
    const stream = new VerifiedBlobStream(
      descriptorOf(bytes),
      async (offset) => download(bytes, offset),
      async () => false,
    );
    const received: Buffer[] = [];
    await pipeline(stream, slowSink(received));
    assert.equal(received[0]!.length, 16 * kib);
    assert.ok(received.length <= 10, `${received.length} writes for 2 MiB`);
    assert.ok(Buffer.concat(received).equals(bytes));
  });

  const bad = [
    {
      title: 'bytes that hash to another digest',
      serve: (b: Buffer) => Buffer.from(b).fill(1, 0, 1),
      error: /hash to/,
    },
    {
      title: 'more bytes than the descriptor says',
      serve: (b: Buffer) => Buffer.concat([b, b]),
      error: /larger/,
    },
  ];
  for (const row of bad) {
    it(`fails, never ends, on ${row.title}`, async () => {
      const bytes = randomBytes(300 * kib);
      const stream = new VerifiedBlobStream(
        descriptorOf(bytes),
        async (offset) => download(row.serve(bytes), offset),
        async () => false,
      );
      await assert.rejects(pipeline(stream, slowSink([])), row.error);
    });
  }

  it('gives up when told not to resume, with the download error', async () => {
    const bytes = randomBytes(100 * kib);
    const stream = new VerifiedBlobStream(
      descriptorOf(bytes),
      async (offset) => download(bytes, offset, 50 * kib),
      async () => false,
    );
    await assert.rejects(pipeline(stream, slowSink([])), /socket hang up/);
  });
});

describe('WorkQueue', () => {
  it('runs at most the limit at once, heaviest waiting first, and takes work while it runs', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const queue = new WorkQueue<number>(
      2,
      (size) => size,
      async (size) => {
        started.push(size);
        most = Math.max(most, ++running);
        await tick();
        running--;
      },
    );
    for (const size of [1, 5, 3, 9]) queue.add(size);
    queue.add(7);
    await tick();
    queue.add(2);
    await queue.drain();
    assert.equal(most, 2);
    // 1 and 5 start at once; then the heaviest of what waits.
    assert.deepEqual(started, [1, 5, 9, 7, 3, 2]);
  });

  it('starts nothing after a failure, and rejects with it once the rest have settled', async () => {
    const finished: number[] = [];
    const queue = new WorkQueue<number>(
      2,
      () => 0,
      async (item) => {
        await tick();
        if (item === 1) throw new Error('first');
        if (item === 3) throw new Error('second');
        finished.push(item);
      },
    );
    for (const item of [1, 2, 3, 4]) queue.add(item);
    await assert.rejects(queue.drain(), /first/);
    assert.deepEqual(finished, [2]);
  });

  it('drains at once when empty, and stop drops what has not started', async () => {
    const done: number[] = [];
    const queue = new WorkQueue<number>(
      1,
      () => 0,
      async (item) => {
        await tick();
        done.push(item);
      },
    );
    await queue.drain();
    for (const item of [1, 2, 3]) queue.add(item);
    queue.stop();
    queue.add(4);
    await queue.drain();
    assert.deepEqual(done, [1]);
  });
});
