import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { RedisBus } from '../../redis/redis-bus.js';
import { StoreSync } from '../../redis/store-sync.js';
import { GLOBAL_DEFAULTS, TIER_DEFAULTS } from './policies.js';
import type { PolicySet } from './rate-limit-setting.entity.js';
import { RateLimitsRepository } from './rate-limits.repository.js';

/** Re-read anyway this often, in case a change message was missed. */
const REFRESH_MS = 30_000;
const CHANNEL = 'policies:changed';

/** The platform-wide sets; each organization's own set and overrides are in OrganizationLimitsStore. */
export interface PolicySnapshot {
  global: PolicySet;
  tiers: Record<string, PolicySet>;
}

function defaults(): PolicySnapshot {
  return { global: { ...GLOBAL_DEFAULTS }, tiers: structuredClone(TIER_DEFAULTS) };
}

/**
 * Every process's copy of the global and tier rate-limit sets, read synchronously on the hot
 * path. A change is written to Postgres, then published on Redis; each process reloads
 * within a second (and every 30 s regardless).
 */
@Injectable()
export class PolicyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PolicyStore');
  private readonly sync: StoreSync;
  private current: PolicySnapshot = defaults();

  constructor(
    private readonly repository: RateLimitsRepository,
    bus: RedisBus,
  ) {
    this.sync = new StoreSync(bus, CHANNEL, REFRESH_MS, () => this.reload());
  }

  get snapshot(): PolicySnapshot {
    return this.current;
  }

  onModuleInit(): Promise<void> {
    return this.sync.start();
  }

  onModuleDestroy(): void {
    this.sync.stop();
  }

  /** After a write: reload here at once, and tell every other process. */
  changed(): Promise<void> {
    return this.sync.changed();
  }

  private async reload(): Promise<void> {
    try {
      const rows = await this.repository.platformSets();
      const next = defaults();
      for (const row of rows) {
        if (row.scope === 'global') next.global = row.policies;
        else if (row.scope.startsWith('tier:')) next.tiers[row.scope.slice(5)] = row.policies;
      }
      this.current = next;
    } catch (error) {
      this.logger.warn(`could not reload rate-limit policies: ${String(error)}`);
    }
  }
}
