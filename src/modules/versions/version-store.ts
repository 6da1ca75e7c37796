import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { RedisBus } from '../../redis/redis-bus.js';
import { StoreSync } from '../../redis/store-sync.js';
import { type VersionLifecycle, lifecycleOf } from './version-lifecycle.js';
import { VersionsRepository } from './versions.repository.js';

/** Re-read anyway this often, in case a change message was missed. */
const REFRESH_MS = 30_000;
const CHANNEL = 'versions:changed';

/**
 * Every process's copy of the API versions' lifecycles, read synchronously by the version
 * guard. A change is written to Postgres, then published on Redis; each process reloads
 * within a second (and every 30 s regardless).
 */
@Injectable()
export class VersionStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('VersionStore');
  private readonly sync: StoreSync;
  private current = new Map<string, VersionLifecycle>();

  constructor(
    private readonly versions: VersionsRepository,
    bus: RedisBus,
  ) {
    this.sync = new StoreSync(bus, CHANNEL, REFRESH_MS, () => this.reload());
  }

  /**
   * The version's lifecycle; undefined for a version that is not deprecated, sunset or
   * scheduled to be (or has no row): such a version simply passes.
   */
  lifecycle(version: string): VersionLifecycle | undefined {
    return this.current.get(version);
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
      const next = new Map<string, VersionLifecycle>();
      for (const row of await this.versions.all()) {
        const lifecycle = lifecycleOf(row);
        // Versions that are neither deprecated nor scheduled to be are left out: the guard's
        // common case is then a Map miss.
        if (lifecycle.deprecatedFromMs !== null) next.set(row.version, lifecycle);
      }
      this.current = next;
    } catch (error) {
      this.logger.warn(`could not reload API versions: ${String(error)}`);
    }
  }
}
