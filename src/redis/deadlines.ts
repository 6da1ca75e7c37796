interface Pending {
  deadline: number;
  reject: (error: Error) => void;
}

/**
 * One deadline for many concurrent calls, kept by one timer instead of one per call. A call
 * not settled by its deadline is rejected, but only after the event loop has read its sockets
 * once more (setImmediate runs after the I/O poll): a reply that arrived while this process
 * was busy, its event loop held up by other work, is used rather than thrown away as a
 * timeout that was this process's own delay and not Redis's.
 */
export class Deadlines {
  private readonly pending = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly tickMs = Math.max(Math.floor(ms / 5), 1),
  ) {}

  within<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Every call has the same timeout, so the set stays in deadline order.
      const entry: Pending = { deadline: performance.now() + this.ms, reject };
      this.pending.add(entry);
      this.timer ??= setInterval(() => this.sweep(), this.tickMs).unref();
      work.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(entry);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private sweep(): void {
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.deadline > now) break;
      this.pending.delete(entry);
      const error = new Error(`no answer within ${this.ms} ms`);
      setImmediate(() => entry.reject(error));
    }
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
