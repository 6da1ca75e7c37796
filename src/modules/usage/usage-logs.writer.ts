import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { copyRows } from '../../database/copy-rows.js';
import { isUniqueViolation } from '../../database/postgres-errors.js';
import { KeyLastUsed } from '../keys/key-last-used.js';
import { INSERT_NEW_USAGE_LOGS, PENDING_COLUMNS, USAGE_LOG_COLUMNS } from './usage-logs.sql.js';
import type { UsageBatch, UsageRecord } from './usage-record.js';

export interface UsageWriteResult {
  records: number;
  /** Rows new to usage_logs: fewer than `records` only for a batch delivered again. */
  inserted: number;
}

/** Each key's latest use in a batch (ISO timestamps compare as strings). */
function latestUseByKey(records: readonly UsageRecord[]): Map<string, string> {
  const latest = new Map<string, string>();
  for (const record of records) {
    if (record.api_key_id === null) continue;
    const seen = latest.get(record.api_key_id);
    if (seen === undefined || record.created_at > seen) {
      latest.set(record.api_key_id, record.created_at);
    }
  }
  return latest;
}

/**
 * The worker's side of the usage pipeline: a batch of usage records into usage_logs, each
 * request once however often the batch is delivered, and what the rollups need of the new
 * rows into usage_rollup_pending in the same transaction (usage-rollups.ts adds them to the
 * rollups); then the keys' last_used_at.
 *
 * A batch is COPYed, Postgres' bulk load: all of its rows or none commit. A batch delivered
 * again after it committed (its worker died before BullMQ heard) meets its own first row in
 * the primary key (created_at, id), and the COPY fails as a whole; the batch then goes through
 * INSERT_NEW_USAGE_LOGS, which skips the rows usage_logs holds and passes on only the new ones.
 */
@Injectable()
export class UsageLogsWriter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly lastUsed: KeyLastUsed,
  ) {}

  async write(batch: UsageBatch): Promise<UsageWriteResult> {
    const inserted = (await this.copied(batch.records))
      ? batch.records.length
      : await this.insertedNew(batch.records);
    // From the whole batch, not only new rows: a batch whose insert committed before a crash
    // still sets last_used_at when it is delivered again. Idempotent.
    await this.lastUsed.record(latestUseByKey(batch.records));
    return { records: batch.records.length, inserted };
  }

  /** The batch COPYed in one transaction; false if a row of it was already there. */
  private async copied(records: readonly UsageRecord[]): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      await runner.startTransaction();
      try {
        await copyRows(client, 'usage_logs', USAGE_LOG_COLUMNS, records);
        await copyRows(client, 'usage_rollup_pending', PENDING_COLUMNS, records);
        await runner.commitTransaction();
        return true;
      } catch (error) {
        await runner.rollbackTransaction();
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    } finally {
      await runner.release();
    }
  }

  /** The batch's rows usage_logs does not hold yet, inserted; how many. */
  private async insertedNew(records: readonly UsageRecord[]): Promise<number> {
    const [row] = await this.dataSource.query<{ inserted: number }[]>(INSERT_NEW_USAGE_LOGS, [
      JSON.stringify(records),
    ]);
    return row?.inserted ?? 0;
  }
}
