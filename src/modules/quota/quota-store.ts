import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { RedisBus } from '../../redis/redis-bus.js';
import type { Quota } from './quota.entity.js';
import type { QuotaSchedule } from './quota-period.js';
import { QuotasRepository } from './quotas.repository.js';

/** Re-read everything anyway this often, in case a change message was missed. */
const REFRESH_MS = 60_000;
const CHANNEL = 'quotas:changed';

/** What the hot path needs of a quota. */
export interface ActiveQuota extends QuotaSchedule {
  id: string;
  organizationId: string;
  apiKeyId: string | null;
  maxRequests: number;
}

function toActive(quota: Quota): ActiveQuota {
  return {
    id: quota.id,
    organizationId: quota.organizationId,
    apiKeyId: quota.apiKeyId,
    period: quota.period,
    maxRequests: quota.maxRequests,
    periodStartMs: quota.periodStart?.getTime() ?? null,
    periodEndMs: quota.periodEnd?.getTime() ?? null,
  };
}

/**
 * Every process's copy of the configured quotas, read synchronously by the rate-limit guard.
 * A change is written to Postgres, then published on Redis with its organization's id; each
 * process re-reads that organization's quotas within a second (and all of them every minute).
 * Reloads run one after another, so an older read never replaces a newer one.
 */
@Injectable()
export class QuotaStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('QuotaStore');
  /** organization id -> its quotas (key quotas and organization-wide ones). */
  private byOrganization = new Map<string, ActiveQuota[]>();
  private reloads: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly quotas: QuotasRepository,
    private readonly bus: RedisBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    await this.bus.subscribe(CHANNEL, {
      onMessage: (organizationId) => void this.reload(organizationId),
      onResync: () => void this.reload(),
    });
    this.timer = setInterval(() => void this.reload(), REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The quotas an API key's request counts against: its own, then its organization's. */
  forKey(organizationId: string, keyId: string): ActiveQuota[] {
    const quotas = this.byOrganization.get(organizationId);
    if (quotas === undefined) return [];
    return quotas.filter((quota) => quota.apiKeyId === keyId || quota.apiKeyId === null);
  }

  /** After a write: reload the organization here at once, and tell every other process. */
  async changed(organizationId: string): Promise<void> {
    await this.reload(organizationId);
    await this.bus.publish(CHANNEL, organizationId);
  }

  /** One organization's quotas, or (without an id) everyone's. */
  private reload(organizationId?: string): Promise<void> {
    this.reloads = this.reloads.then(async () => {
      try {
        const rows = await this.quotas.active(organizationId);
        const next = new Map<string, ActiveQuota[]>(
          organizationId === undefined ? [] : this.byOrganization,
        );
        if (organizationId !== undefined) next.delete(organizationId);
        for (const row of rows) {
          const list = next.get(row.organizationId) ?? [];
          list.push(toActive(row));
          next.set(row.organizationId, list);
        }
        // A key's own quotas first: they are the more specific, and decide first.
        for (const list of next.values())
          list.sort(
            (a: ActiveQuota, b: ActiveQuota) =>
              Number(a.apiKeyId === null) - Number(b.apiKeyId === null),
          );
        this.byOrganization = next;
      } catch (error) {
        this.logger.warn(`could not reload quotas: ${String(error)}`);
      }
    });
    return this.reloads;
  }
}
