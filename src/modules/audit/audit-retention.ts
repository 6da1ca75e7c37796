import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditConfig } from '../../config/config.classes.js';
import { dropPartitionsEndingBy } from '../../database/partitions.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';
import { DELETE_OLDER_THAN, ENABLE_PURGE, ENSURE_NEXT_MONTHS } from './audit-retention.sql.js';

const DAY_MS = 86_400_000;

export interface PurgeResult {
  droppedPartitions: string[];
  deletedRows: number;
}

/** Keeps the audit trail to AUDIT_RETENTION_DAYS and its future partitions in place. */
@Injectable()
export class AuditRetention {
  private readonly logger = new Logger('AuditRetention');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AuditConfig,
  ) {}

  async purge(now: Date = new Date()): Promise<PurgeResult> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    const result = await maintenanceTransaction(this.dataSource, async (manager) => {
      const droppedPartitions = await dropPartitionsEndingBy(manager, 'audit_log', cutoff);
      await manager.query(ENABLE_PURGE);
      const [, deletedRows] = await manager.query<[unknown, number]>(DELETE_OLDER_THAN, [cutoff]);
      await manager.query(ENSURE_NEXT_MONTHS);
      return { droppedPartitions, deletedRows };
    });
    this.logger.log({ msg: 'audit retention', cutoff: cutoff.toISOString(), ...result });
    return result;
  }
}
