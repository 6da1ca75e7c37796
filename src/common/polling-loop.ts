/**
 * A background pass run again and again on a timer, one at a time: at once after a pass that
 * says more is waiting, else after `idleMs`. A pass that throws counts as "nothing waiting"
 * (the pass logs its own failures). `stop()` waits for the pass in flight, so a shutdown hook
 * can await it before the connections it uses close.
 *
 * `wake(quietMs)` says work arrived: the next pass runs once no wake came for `quietMs`, and
 * never later than it was due anyway. A burst of work is taken when it ends instead of up to
 * `idleMs` later, while work that keeps arriving is still taken every `idleMs`, in passes as
 * large as before.
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** When the pass the timer waits for is due at the latest; undefined while a pass runs. */
  private deadline: number | undefined;
  /** A wake while a pass ran: the next pass comes `quietMs` after it (unless woken again). */
  private wokenQuietMs: number | undefined;

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

  wake(quietMs: number): void {
    if (this.stopped) return;
    if (this.deadline === undefined) {
      this.wokenQuietMs = quietMs;
      return;
    }
    clearTimeout(this.timer);
    this.arm(Math.min(this.deadline - Date.now(), quietMs));
  }

  /** The next pass due in `ms` at the latest, the timer set for `armMs`. */
  private schedule(ms: number, armMs = ms): void {
    if (this.stopped) return;
    this.deadline = Date.now() + ms;
    this.arm(Math.min(ms, armMs));
  }

  private arm(ms: number): void {
    this.timer = setTimeout(
      () => {
        this.deadline = undefined;
        this.running = this.pass()
          .catch(() => false)
          .then((more) => {
            const woken = this.wokenQuietMs;
            this.wokenQuietMs = undefined;
            this.schedule(more ? 0 : this.idleMs, woken);
          });
      },
      Math.max(ms, 0),
    );
  }
}
