/** A bounded pool that work can be added to while earlier work runs. */
export interface Pool {
  /**
   * Queues `work`; it starts as soon as fewer than `concurrency` calls are in flight, in the
   * order queued. If the pool's `shouldStop()` is true when its turn comes, it never starts
   * and resolves to undefined.
   */
  run<R>(work: () => Promise<R>): Promise<R | undefined>;
}

/**
 * A pool with at most `concurrency` calls in flight: a slow call holds up one slot rather
 * than a whole batch, and callers may keep adding work as they learn of it.
 * Once `shouldStop()` is true no queued call starts.
 */
export function createPool(concurrency: number, shouldStop: () => boolean = () => false): Pool {
  const limit = Math.max(1, concurrency);
  const queue: (() => void)[] = [];
  let inFlight = 0;
  const startQueued = (): void => {
    while (inFlight < limit && queue.length > 0) (queue.shift() as () => void)();
  };
  return {
    run<R>(work: () => Promise<R>): Promise<R | undefined> {
      return new Promise<R | undefined>((resolve, reject) => {
        queue.push(() => {
          if (shouldStop()) return resolve(undefined);
          inFlight++;
          let running: Promise<R>;
          try {
            running = work();
          } catch (error) {
            running = Promise.reject(error);
          }
          // The slot frees before the caller hears of the result, so the next call starts first.
          running
            .finally(() => {
              inFlight--;
              startQueued();
            })
            .then(resolve, reject);
        });
        startQueued();
      });
    },
  };
}

/**
 * Runs `work` over `items` in a pool of `concurrency` (see createPool). Results keep the
 * items' order; the items not started once `shouldStop()` is true resolve to undefined.
 */
export function mapPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
  shouldStop: () => boolean = () => false,
): Promise<(R | undefined)[]> {
  const pool = createPool(concurrency, shouldStop);
  return Promise.all(items.map((item) => pool.run(() => work(item))));
}
