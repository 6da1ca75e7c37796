import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RedisBus } from '../../redis/redis-bus.js';

/** A safety net only: a tier change reaches every process through the channel within a second. */
const MAX_AGE_MS = 5 * 60_000;
/** After a failed read, the stale tier (or none) is used this long before trying again. */
const RETRY_MS = 5_000;
const CHANNEL = 'tiers:changed';

interface Entry {
  tier: string | undefined;
  /** When to read it again; until then it is served as is. */
  refreshAtMs: number;
}

/**
 * Every process's copy of organizations' tiers, for the tier windows of the rate-limit guard.
 * Read from Postgres once, on an organization's first request (one read however many requests
 * wait for it); after that from memory, refreshed in the background every 5 minutes while the
 * old value keeps serving. A tier change (or an organization's deletion) is published on
 * Redis and every process drops its copy.
 */
@Injectable()
export class TierStore implements OnModuleInit {
  private readonly logger = new Logger('TierStore');
  private readonly tiers = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<string | undefined>>();
  /** Bumped by every drop, so a load that raced a change does not cache what it read. */
  private epoch = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: RedisBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe(CHANNEL, {
      onMessage: (organizationId) => this.drop(organizationId),
      onResync: () => this.drop(),
    });
  }

  /**
   * The organization's tier (undefined once it no longer exists). Waits only for an
   * organization's first read; a stale entry is served while it is read again.
   */
  tierOf(organizationId: string, nowMs: number): string | undefined | Promise<string | undefined> {
    const entry = this.tiers.get(organizationId);
    if (entry === undefined) return this.load(organizationId, nowMs);
    if (nowMs >= entry.refreshAtMs) void this.load(organizationId, nowMs);
    return entry.tier;
  }

  /** After a tier change or a deletion: drop it here at once, and tell every other process. */
  async changed(organizationId: string): Promise<void> {
    this.drop(organizationId);
    await this.bus.publish(CHANNEL, organizationId);
  }

  private load(organizationId: string, nowMs: number): Promise<string | undefined> {
    const inFlight = this.loading.get(organizationId);
    if (inFlight !== undefined) return inFlight;
    const epoch = this.epoch;
    const read = this.dataSource
      .query<{ tier: string }[]>('SELECT tier FROM organizations WHERE id = $1', [organizationId])
      .then((rows) => {
        const tier = rows[0]?.tier;
        if (epoch === this.epoch)
          this.tiers.set(organizationId, { tier, refreshAtMs: nowMs + MAX_AGE_MS });
        return tier;
      })
      .catch((error: unknown) => {
        const stale = this.tiers.get(organizationId)?.tier;
        this.logger.warn(`could not read the tier of ${organizationId}: ${String(error)}`);
        if (epoch === this.epoch)
          this.tiers.set(organizationId, { tier: stale, refreshAtMs: nowMs + RETRY_MS });
        return stale;
      })
      .finally(() => {
        if (this.loading.get(organizationId) === read) this.loading.delete(organizationId);
      });
    this.loading.set(organizationId, read);
    return read;
  }

  private drop(organizationId?: string): void {
    this.epoch += 1;
    // A read in flight may predate the change: later requests start their own.
    if (organizationId === undefined) {
      this.tiers.clear();
      this.loading.clear();
    } else {
      this.tiers.delete(organizationId);
      this.loading.delete(organizationId);
    }
  }
}
