import type { RedisBus } from './redis-bus.js';

/**
 * Keeps a process's in-memory copy of Postgres rows in step with every other process: the
 * store reloads at start, on every message on its channel (another process changed
 * something), after a Redis reconnect (messages may have been missed) and every `refreshMs`
 * regardless. Reloads run one after another, so an older read never replaces a newer one.
 * `scope` lets a store reload part of its rows (one organization's); none means all.
 * `reload` reports its own failures and answers false for one.
 */
export class StoreSync {
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: RedisBus,
    private readonly channel: string,
    private readonly refreshMs: number,
    private readonly reload: (scope?: string) => Promise<boolean | void>,
  ) {}

  async start(): Promise<void> {
    await this.run();
    await this.bus.subscribe(this.channel, {
      onMessage: (scope) => void this.run(scope === '' ? undefined : scope),
      onResync: () => void this.run(),
    });
    this.timer = setInterval(() => void this.run(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** After a write: reload here at once, then tell every other process. */
  async changed(scope?: string): Promise<void> {
    await this.run(scope);
    await this.bus.publish(this.channel, scope ?? '');
  }

  /** Reloads here now (after the reloads already queued); false when the reload failed. */
  refresh(scope?: string): Promise<boolean> {
    const reloaded = this.chain
      .then(() => this.reload(scope))
      .then(
        (result) => result !== false,
        () => false,
      );
    this.chain = reloaded.then(() => undefined);
    return reloaded;
  }

  private async run(scope?: string): Promise<void> {
    await this.refresh(scope);
  }
}
