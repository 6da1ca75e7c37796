import type { Logger } from '@nestjs/common';
import pg from 'pg';

/** The channel the outbox_events trigger notifies on commit (migration 1765100000000). */
export const OUTBOX_CHANNEL = 'outbox_events';
/** Reconnection waits: doubling from the first, capped at the last. */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/**
 * LISTENs on `outbox_events` on a connection of its own (outside the pool: a LISTEN holds its
 * session) and calls `wake` on every notification, i.e. each time a transaction that wrote
 * outbox events commits. A lost connection is reopened (backing off to every 5 s), and `wake`
 * is called once it listens again: what committed meanwhile was not announced. Notifications
 * only speed the relay up; its poll still finds whatever they miss.
 */
export class OutboxListener {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly wake: () => void,
    private readonly logger: Logger,
  ) {}

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'gatehouse-outbox-listener',
      connectionTimeoutMillis: 3_000,
      keepAlive: true,
    });
    this.client = client;
    client.on('notification', () => this.wake());
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.client !== client) return;
    if (this.failures > 0) this.logger.log('outbox listener connected again');
    this.failures = 0;
    this.wake();
  }

  /** Drops `client` (once) and, unless stopping, connects again after a wait. */
  private lost(client: pg.Client, error?: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    if (this.failures === 0) {
      const reason = error instanceof Error ? error.message : 'connection closed';
      this.logger.warn(`outbox listener lost its connection (${reason}); polling until it is back`);
    }
    this.failures += 1;
    const wait = Math.min(RECONNECT_FIRST_MS * 2 ** (this.failures - 1), RECONNECT_MAX_MS);
    this.retry = setTimeout(() => void this.connect(), wait);
  }
}
