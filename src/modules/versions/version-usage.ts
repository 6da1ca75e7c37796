import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { VersionsRepository } from './versions.repository.js';

const FLUSH_MS = 5_000;
const HOUR_MS = 3_600_000;

/**
 * Requests per API version and hour, counted in process by the version guard and added to
 * api_version_usage every 5 s (and on shutdown) in one statement, never per request.
 */
@Injectable()
export class VersionUsage implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('VersionUsage');
  /** hour start (ms) -> version -> requests */
  private counts = new Map<number, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly versions: VersionsRepository) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** One request to `version` (on the request path: two Map operations). */
  count(version: string, nowMs: number): void {
    this.add(version, nowMs - (nowMs % HOUR_MS), 1);
  }

  private add(version: string, hour: number, requests: number): void {
    let versions = this.counts.get(hour);
    if (versions === undefined) {
      versions = new Map();
      this.counts.set(hour, versions);
    }
    versions.set(version, (versions.get(version) ?? 0) + requests);
  }

  async flush(): Promise<void> {
    if (this.counts.size === 0) return;
    const batch = this.counts;
    this.counts = new Map();
    const rows = [...batch].flatMap(([hour, versions]) =>
      [...versions].map(([version, requests]) => ({ version, hour: new Date(hour), requests })),
    );
    try {
      await this.versions.addUsage(rows);
    } catch (error) {
      // Kept for the next flush: a database blip must not lose the counts.
      for (const row of rows) this.add(row.version, row.hour.getTime(), row.requests);
      this.logger.warn(`could not write API version usage: ${String(error)}`);
    }
  }
}
