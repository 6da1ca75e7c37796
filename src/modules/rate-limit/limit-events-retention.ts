import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RateLimitConfig } from '../../config/config.classes.js';
import { type DayPartitionsPurge, purgeDayPartitions } from '../../database/partitions.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';

const DAY_MS = 86_400_000;

export type LimitEventsPurgeResult = DayPartitionsPurge;

/** Keeps rate_limit_events to RATE_LIMIT_EVENTS_RETENTION_DAYS and its next days' partitions in place. */
@Injectable()
export class LimitEventsRetention {
  private readonly logger = new Logger('LimitEventsRetention');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: RateLimitConfig,
  ) {}

  async purge(now: Date = new Date()): Promise<LimitEventsPurgeResult> {
    const cutoff = new Date(now.getTime() - this.config.eventsRetentionDays * DAY_MS);
    const result = await maintenanceTransaction(this.dataSource, (manager) =>
      purgeDayPartitions(manager, { table: 'rate_limit_events', column: 'minute' }, cutoff),
    );
    this.logger.log({
      msg: 'rate-limit events retention',
      cutoff: cutoff.toISOString(),
      ...result,
    });
    return result;
  }
}
