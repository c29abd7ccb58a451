/** Runs `work` over `items` with at most `limit` in flight; rejects with the first failure once all have settled. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/** Maps with at most `limit` calls in flight, keeping the order of `items`. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const indexed = items.map((item, index) => ({ item, index }));
  await forEachLimited(indexed, limit, async ({ item, index }) => {
    results[index] = await work(item);
  });
  return results;
}

/**
 * A bounded pool that takes work while it runs, so copies start as soon as the walk finds
 * them instead of after it. At most `limit` items are in flight; the heaviest waiting item
 * goes next, so the longest copies start first and the tail, where few run, stays short.
 * After the first failure nothing new starts, and `drain` rejects with that failure once
 * everything in flight has settled.
 */
export class WorkQueue<T> {
  private readonly waiting: T[] = [];
  private running = 0;
  private failure: { error: unknown } | undefined;
  private stopped = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly weight: (item: T) => number,
    private readonly work: (item: T) => Promise<void>,
  ) {}

  /** Queues an item; it starts at once when a slot is free. Ignored after a failure or `stop`. */
  add(item: T): void {
    if (this.failure || this.stopped) return;
    this.waiting.push(item);
    this.pump();
  }

  /** Drops what has not started and takes nothing more; what is in flight runs on. */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
  }

  /** Resolves once everything added so far has finished; rejects with the first failure. */
  async drain(): Promise<void> {
    if (this.running > 0 || this.waiting.length > 0) {
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
    if (this.failure) throw this.failure.error;
  }

  private pump(): void {
    while (this.running < this.limit && this.waiting.length > 0 && !this.failure) {
      this.running++;
      void this.work(this.takeHeaviest())
        .catch((error: unknown) => {
          this.failure ??= { error };
          this.waiting.length = 0;
        })
        .finally(() => {
          this.running--;
          this.pump();
          if (this.running === 0 && this.waiting.length === 0) {
            for (const resolve of this.idle.splice(0)) resolve();
          }
        });
    }
  }

  private takeHeaviest(): T {
    let best = 0;
    for (let index = 1; index < this.waiting.length; index++) {
      if (this.weight(this.waiting[index]!) > this.weight(this.waiting[best]!)) best = index;
    }
    return this.waiting.splice(best, 1)[0]!;
  }
}
