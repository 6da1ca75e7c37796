import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UsageConfig } from '../../config/config.classes.js';
import { type DayPartitionsPurge, purgeDayPartitions } from '../../database/partitions.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';

const DAY_MS = 86_400_000;
/** Minute rollups are kept this many days (API.md: minute data within 7 days). */
export const MINUTE_ROLLUPS_DAYS = 7;
/** Hour and day rollups are kept this many months. */
export const HOUR_DAY_ROLLUPS_MONTHS = 13;

/** The start of the hour and day rollups still kept at `now`. */
export function hourDayRollupsCutoff(now: Date): Date {
  const cutoff = new Date(now);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - HOUR_DAY_ROLLUPS_MONTHS);
  return cutoff;
}

export interface UsagePurge extends DayPartitionsPurge {
  rollups: { minute: DayPartitionsPurge; hourRows: number; dayRows: number };
}

/**
 * Keeps usage_logs to USAGE_RETENTION_DAYS (whole days dropped) and its next days'
 * partitions created, the minute rollups to 7 days (the same way) and the hour and day
 * rollups to 13 months (rows deleted); run hourly by the worker's retention queue.
 */
@Injectable()
export class UsageLogsRetention {
  private readonly logger = new Logger('UsageLogsRetention');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: UsageConfig,
  ) {}

  async purge(now: Date = new Date()): Promise<UsagePurge> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    const minuteCutoff = new Date(now.getTime() - MINUTE_ROLLUPS_DAYS * DAY_MS);
    const rollupsCutoff = hourDayRollupsCutoff(now);
    const result = await maintenanceTransaction(this.dataSource, async (manager) => {
      const logs = await purgeDayPartitions(
        manager,
        { table: 'usage_logs', column: 'created_at' },
        cutoff,
      );
      // Never a minute not folded into the hour and day rollups yet (a worker that has not
      // run its rollup step for a week): the minute rollups are its only copy.
      const [mark] = await manager.query<{ folded_until: Date }[]>(
        'SELECT folded_until FROM usage_rollup_folds',
      );
      const minute = await purgeDayPartitions(
        manager,
        { table: 'usage_rollups_minute', column: 'bucket' },
        mark !== undefined && mark.folded_until < minuteCutoff ? mark.folded_until : minuteCutoff,
      );
      const deleted = async (table: string) => {
        const [, rows] = await manager.query<[unknown, number]>(
          `DELETE FROM ${table} WHERE bucket < $1`,
          [rollupsCutoff],
        );
        return rows;
      };
      const hourRows = await deleted('usage_rollups_hour');
      const dayRows = await deleted('usage_rollups_day');
      // The narrow rollups: the same buckets summed (not counted in the result).
      for (const table of ['org_hour', 'org_day', 'key_hour', 'key_day'])
        await deleted(`usage_rollups_${table}`);
      return { ...logs, rollups: { minute, hourRows, dayRows } };
    });
    this.logger.log({ msg: 'usage logs retention', cutoff: cutoff.toISOString(), ...result });
    return result;
  }
}
