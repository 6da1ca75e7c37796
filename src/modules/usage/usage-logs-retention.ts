import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UsageConfig } from '../../config/config.classes.js';
import { type DayPartitionsPurge, purgeDayPartitions } from '../../database/partitions.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';

const DAY_MS = 86_400_000;

/**
 * Keeps usage_logs to USAGE_RETENTION_DAYS (whole days dropped) and its next days'
 * partitions created; run hourly by the worker's retention queue.
 */
@Injectable()
export class UsageLogsRetention {
  private readonly logger = new Logger('UsageLogsRetention');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: UsageConfig,
  ) {}

  async purge(now: Date = new Date()): Promise<DayPartitionsPurge> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    const result = await maintenanceTransaction(this.dataSource, (manager) =>
      purgeDayPartitions(manager, { table: 'usage_logs', column: 'created_at' }, cutoff),
    );
    this.logger.log({ msg: 'usage logs retention', cutoff: cutoff.toISOString(), ...result });
    return result;
  }
}
