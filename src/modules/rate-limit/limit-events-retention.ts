import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RateLimitConfig } from '../../config/config.classes.js';
import { dropPartitionsEndingBy } from '../../database/partitions.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';
import { DELETE_DEFAULT_OLDER_THAN, ENSURE_NEXT_DAYS } from './limit-events.sql.js';

const DAY_MS = 86_400_000;

export interface LimitEventsPurgeResult {
  droppedPartitions: string[];
  deletedRows: number;
}

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
    const result = await maintenanceTransaction(this.dataSource, async (manager) => {
      const droppedPartitions = await dropPartitionsEndingBy(manager, 'rate_limit_events', cutoff);
      const [, deletedRows] = await manager.query<[unknown, number]>(DELETE_DEFAULT_OLDER_THAN, [
        cutoff,
      ]);
      await manager.query(ENSURE_NEXT_DAYS);
      return { droppedPartitions, deletedRows };
    });
    this.logger.log({
      msg: 'rate-limit events retention',
      cutoff: cutoff.toISOString(),
      ...result,
    });
    return result;
  }
}
