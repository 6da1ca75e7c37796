import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { RedisBus } from '../../redis/redis-bus.js';
import { StoreSync } from '../../redis/store-sync.js';
import { Limiter } from '../rate-limit/limiter.js';
import type { Quota } from './quota.entity.js';
import type { QuotaSchedule } from './quota-period.js';
import { QuotasRepository } from './quotas.repository.js';

/** Re-read everything anyway this often, in case a change message was missed. */
const REFRESH_MS = 60_000;
const CHANNEL = 'quotas:changed';

/** One organization's quotas, arranged at reload so a request only looks its key up. */
interface OrganizationQuotas {
  /** The organization-wide quotas: what a key without its own counts against. */
  organizationWide: ActiveQuota[];
  /** Per key with quotas of its own: those, then the organization-wide ones. */
  byKey: Map<string, ActiveQuota[]>;
}

const NONE: ActiveQuota[] = [];

function arrange(quotas: ActiveQuota[]): OrganizationQuotas {
  const organizationWide = quotas.filter((quota) => quota.apiKeyId === null);
  const byKey = new Map<string, ActiveQuota[]>();
  for (const quota of quotas) {
    if (quota.apiKeyId === null) continue;
    byKey.set(quota.apiKeyId, [...(byKey.get(quota.apiKeyId) ?? []), quota]);
  }
  // A key's own quotas first: they are the more specific, and decide first.
  for (const [keyId, own] of byKey) byKey.set(keyId, [...own, ...organizationWide]);
  return { organizationWide, byKey };
}

/** What the hot path needs of a quota. */
export interface ActiveQuota extends QuotaSchedule {
  id: string;
  organizationId: string;
  apiKeyId: string | null;
  maxRequests: number;
}

/** A quota row's schedule, in the form currentPeriod reads. */
export function scheduleOf(quota: Quota): QuotaSchedule {
  return {
    period: quota.period,
    periodStartMs: quota.periodStart?.getTime() ?? null,
    periodEndMs: quota.periodEnd?.getTime() ?? null,
  };
}

function toActive(quota: Quota): ActiveQuota {
  return {
    id: quota.id,
    organizationId: quota.organizationId,
    apiKeyId: quota.apiKeyId,
    maxRequests: quota.maxRequests,
    ...scheduleOf(quota),
  };
}

/**
 * Every process's copy of the configured quotas, read synchronously by the rate-limit guard.
 * A change is written to Postgres, then published on Redis with its organization's id; each
 * process re-reads that organization's quotas within a second (and all of them every minute).
 * Exactness does not wait for that: the change also bumps the organization's generation in
 * Redis, and a limiter call made with an older copy re-reads it first (RequestLimiter).
 */
@Injectable()
export class QuotaStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('QuotaStore');
  /** organization id -> its quotas (key quotas and organization-wide ones). */
  private byOrganization = new Map<string, OrganizationQuotas>();
  private readonly sync: StoreSync;

  constructor(
    private readonly quotas: QuotasRepository,
    private readonly limiter: Limiter,
    bus: RedisBus,
  ) {
    this.sync = new StoreSync(bus, CHANNEL, REFRESH_MS, (organizationId) =>
      this.reload(organizationId),
    );
  }

  onModuleInit(): Promise<void> {
    return this.sync.start();
  }

  onModuleDestroy(): void {
    this.sync.stop();
  }

  /** The quotas an API key's request counts against: its own, then its organization's. */
  forKey(organizationId: string, keyId: string): ActiveQuota[] {
    const quotas = this.byOrganization.get(organizationId);
    return quotas?.byKey.get(keyId) ?? quotas?.organizationWide ?? NONE;
  }

  /**
   * After a write is committed: the limiter's generation first (so every process's next
   * request for the organization re-reads its quotas), then a reload here and a message to
   * every other process.
   */
  async changed(organizationId: string): Promise<void> {
    await this.limiter.limitsChanged(organizationId);
    await this.sync.changed(organizationId);
  }

  /** Re-reads the organization's quotas now; false when Postgres could not be read. */
  refresh(organizationId: string): Promise<boolean> {
    return this.sync.refresh(organizationId);
  }

  /** One organization's quotas, or (without an id) everyone's. */
  private async reload(organizationId?: string): Promise<boolean> {
    try {
      const rows = await this.quotas.active(organizationId);
      const next = new Map<string, OrganizationQuotas>(
        organizationId === undefined ? [] : this.byOrganization,
      );
      if (organizationId !== undefined) next.delete(organizationId);
      const loaded = new Map<string, ActiveQuota[]>();
      for (const row of rows) {
        const list = loaded.get(row.organizationId) ?? [];
        list.push(toActive(row));
        loaded.set(row.organizationId, list);
      }
      for (const [id, list] of loaded) next.set(id, arrange(list));
      this.byOrganization = next;
      return true;
    } catch (error) {
      this.logger.warn(`could not reload quotas: ${String(error)}`);
      return false;
    }
  }
}
