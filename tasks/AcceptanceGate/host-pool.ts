/**
 * Runs jobs concurrently with at most `perHost` in flight for any one host, so a
 * gate with hundreds of checks finishes in seconds without hammering one staging
 * front end. Jobs for other hosts are not held up by a busy host.
 */
export class HostPool {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  /** `perHost`: how many jobs may run at once against one host. */
  constructor(private readonly perHost: number) {
    if (!Number.isInteger(perHost) || perHost < 1) throw new RangeError('perHost must be a whole number ≥ 1');
  }

  /** Runs `job` once a slot for `host` is free, and frees it when the job settles. */
  async run<T>(host: string, job: () => Promise<T>): Promise<T> {
    await this.acquire(host);
    try {
      return await job();
    } finally {
      this.release(host);
    }
  }

  private acquire(host: string): Promise<void> {
    const inFlight = this.running.get(host) ?? 0;
    if (inFlight < this.perHost) {
      this.running.set(host, inFlight + 1);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(host) ?? [];
      queue.push(resolve);
      this.waiting.set(host, queue);
    });
  }

  private release(host: string): void {
    const next = this.waiting.get(host)?.shift();
    // The slot passes straight to the next waiter, so the count stays the same.
    if (next) next();
    else this.running.set(host, (this.running.get(host) ?? 1) - 1);
  }
}
