import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { RedisBus } from '../../redis/redis-bus.js';
import { Limiter } from './limiter.js';
import type { PolicySet } from './rate-limit-setting.entity.js';
import { RateLimitsRepository } from './rate-limits.repository.js';

/** A safety net only: a change reaches every process through the channel within a second. */
const MAX_AGE_MS = 5 * 60_000;
/** After a failed read, the stale entry (or none) is used this long before trying again. */
const RETRY_MS = 5_000;
const CHANNEL = 'organization-limits:changed';

/** What decides an organization's windows, besides the global and tier sets every process holds. */
export interface OrganizationLimits {
  tier: string;
  /** The organization's own set, given by a platform administrator; it replaces the tier's. */
  own: PolicySet | null;
  /** Route template -> the organization's endpoint override. */
  endpoints: Readonly<Record<string, PolicySet>>;
}

interface Entry {
  limits: OrganizationLimits | undefined;
  /** The last read failed: `limits` is what was known before it. */
  failed: boolean;
  /** When to read it again; until then it is served as is. */
  refreshAtMs: number;
}

/**
 * Every process's copy of each organization's plan: its tier, its own set and its endpoint
 * overrides. Read from Postgres in one query on an organization's first request (one read
 * however many requests wait for it); after that from memory, refreshed in the background
 * every 5 minutes while the old value keeps serving. A change to any of them (or the
 * organization's deletion) is published on Redis with the organization's id, and every
 * process drops that one organization's copy: other organizations are not reloaded.
 */
@Injectable()
export class OrganizationLimitsStore implements OnModuleInit {
  private readonly logger = new Logger('OrganizationLimits');
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<OrganizationLimits | undefined>>();
  /** Bumped by every drop, so a load that raced a change does not cache what it read. */
  private epoch = 0;

  constructor(
    private readonly repository: RateLimitsRepository,
    private readonly bus: RedisBus,
    private readonly limiter: Limiter,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe(CHANNEL, {
      onMessage: (organizationId) => this.drop(organizationId),
      onResync: () => this.drop(),
    });
  }

  /**
   * The organization's limits (undefined once it no longer exists). Waits only for an
   * organization's first read; a stale entry is served while it is read again.
   */
  limitsOf(
    organizationId: string,
    nowMs = Date.now(),
  ): OrganizationLimits | undefined | Promise<OrganizationLimits | undefined> {
    const entry = this.entries.get(organizationId);
    if (entry === undefined) return this.load(organizationId, nowMs);
    if (nowMs >= entry.refreshAtMs) void this.load(organizationId, nowMs);
    return entry.limits;
  }

  /**
   * After a change of the organization's tier, set or overrides, or its deletion is
   * committed: the limiter's generation first (every process's next request for the
   * organization re-reads it), then drop it here and everywhere.
   */
  async changed(organizationId: string): Promise<void> {
    await this.limiter.limitsChanged(organizationId);
    this.drop(organizationId);
    await this.bus.publish(CHANNEL, organizationId);
  }

  /** Re-reads the organization's limits now; false when they could not be read. */
  async refresh(organizationId: string): Promise<boolean> {
    this.drop(organizationId);
    await this.load(organizationId, Date.now());
    return this.entries.get(organizationId)?.failed === false;
  }

  private load(organizationId: string, nowMs: number): Promise<OrganizationLimits | undefined> {
    const inFlight = this.loading.get(organizationId);
    if (inFlight !== undefined) return inFlight;
    const epoch = this.epoch;
    const read = this.repository
      .organizationLimits(organizationId)
      .then((limits) => {
        if (epoch === this.epoch)
          this.entries.set(organizationId, {
            limits,
            failed: false,
            refreshAtMs: nowMs + MAX_AGE_MS,
          });
        return limits;
      })
      .catch((error: unknown) => {
        const stale = this.entries.get(organizationId)?.limits;
        this.logger.warn(`could not read the limits of ${organizationId}: ${String(error)}`);
        if (epoch === this.epoch)
          this.entries.set(organizationId, {
            limits: stale,
            failed: true,
            refreshAtMs: nowMs + RETRY_MS,
          });
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
      this.entries.clear();
      this.loading.clear();
    } else {
      this.entries.delete(organizationId);
      this.loading.delete(organizationId);
    }
  }
}
