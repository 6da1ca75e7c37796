/**
 * A background pass run again and again on a timer, one at a time: at once after a pass that
 * says more is waiting, else after `idleMs`. A pass that throws counts as "nothing waiting"
 * (the pass logs its own failures). `stop()` waits for the pass in flight, so a shutdown hook
 * can await it before the connections it uses close.
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<boolean>,
    private readonly idleMs: number,
  ) {}

  start(firstMs = this.idleMs): void {
    this.schedule(firstMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch(() => false)
        .then((more) => this.schedule(more ? 0 : this.idleMs));
    }, ms);
  }
}
