/**
 * A background pass run again and again on a timer, one at a time: at once after a pass that
 * says more is waiting, else after `idleMs`. `wake()` runs one at once (or, during a pass,
 * once more right after it). A pass that throws counts as "nothing waiting" (the pass logs
 * its own failures). `stop()` waits for the pass in flight, so a shutdown hook can await it
 * before the connections it uses close.
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Woken during a pass: another one follows it at once. */
  private again = false;

  constructor(
    private readonly pass: () => Promise<boolean>,
    private readonly idleMs: number,
  ) {}

  start(firstMs = this.idleMs): void {
    this.schedule(firstMs);
  }

  /** Something is waiting now: run a pass without waiting out the idle interval. */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), ms);
  }

  private run(): void {
    this.again = false;
    this.running = this.pass()
      .catch(() => false)
      .then((more) => {
        this.running = undefined;
        this.schedule(more || this.again ? 0 : this.idleMs);
      });
  }
}
