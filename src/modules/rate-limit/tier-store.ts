import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RedisBus } from '../../redis/redis-bus.js';

/** A safety net only: a tier change reaches every process through the channel within a second. */
const MAX_AGE_MS = 5 * 60_000;
const CHANNEL = 'tiers:changed';

/**
 * Every process's copy of organizations' tiers, for the tier windows of the rate-limit guard:
 * read from Postgres on an organization's first request, then from memory. A tier change
 * (or an organization's deletion) is published on Redis and every process drops its copy.
 */
@Injectable()
export class TierStore implements OnModuleInit {
  private readonly tiers = new Map<string, { tier: string | undefined; loadedAtMs: number }>();
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

  /** The organization's tier, or undefined when it no longer exists. */
  async tierOf(organizationId: string): Promise<string | undefined> {
    const now = Date.now();
    const cached = this.tiers.get(organizationId);
    if (cached !== undefined && now - cached.loadedAtMs < MAX_AGE_MS) return cached.tier;
    const epoch = this.epoch;
    const rows: { tier: string }[] = await this.dataSource.query(
      'SELECT tier FROM organizations WHERE id = $1',
      [organizationId],
    );
    const tier = rows[0]?.tier;
    if (epoch === this.epoch) this.tiers.set(organizationId, { tier, loadedAtMs: now });
    return tier;
  }

  /** After a tier change or a deletion: drop it here at once, and tell every other process. */
  async changed(organizationId: string): Promise<void> {
    this.drop(organizationId);
    await this.bus.publish(CHANNEL, organizationId);
  }

  private drop(organizationId?: string): void {
    this.epoch += 1;
    if (organizationId === undefined) this.tiers.clear();
    else this.tiers.delete(organizationId);
  }
}
