import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RedisBus } from '../../redis/redis-bus.js';
import { StoreSync } from '../../redis/store-sync.js';
import { GLOBAL_DEFAULTS, TIER_DEFAULTS } from './policies.js';
import { type PolicySet, RateLimitSetting } from './rate-limit-setting.entity.js';

/** Re-read anyway this often, in case a change message was missed. */
const REFRESH_MS = 30_000;
const CHANNEL = 'policies:changed';

export interface PolicySnapshot {
  global: PolicySet;
  tiers: Record<string, PolicySet>;
  /** organization id -> route template -> policies */
  endpoints: Map<string, Record<string, PolicySet>>;
}

function defaults(): PolicySnapshot {
  return {
    global: { ...GLOBAL_DEFAULTS },
    tiers: structuredClone(TIER_DEFAULTS),
    endpoints: new Map(),
  };
}

/**
 * Every process's copy of the configured rate-limit policies, read synchronously on the hot
 * path. A change is written to Postgres, then published on Redis; each process reloads
 * within a second (and every 30 s regardless).
 */
@Injectable()
export class PolicyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PolicyStore');
  private readonly sync: StoreSync;
  private current: PolicySnapshot = defaults();

  constructor(
    private readonly dataSource: DataSource,
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
      const rows = await this.dataSource.manager.find(RateLimitSetting);
      const next = defaults();
      for (const row of rows) {
        if (row.scope === 'global') next.global = row.policies;
        else if (row.scope.startsWith('tier:')) next.tiers[row.scope.slice(5)] = row.policies;
        else if (row.organizationId !== null)
          next.endpoints.set(row.organizationId, row.policies as Record<string, PolicySet>);
      }
      this.current = next;
    } catch (error) {
      this.logger.warn(`could not reload rate-limit policies: ${String(error)}`);
    }
  }
}
