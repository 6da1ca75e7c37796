import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { type CopyValue, copyFromText, copyLines } from '../../database/copy-rows.js';
import { isUniqueViolation } from '../../database/postgres-errors.js';
import { KeyLastUsed } from '../keys/key-last-used.js';
import { INSERT_NEW_USAGE_LOGS, USAGE_LOG_COLUMNS, type UsageLogColumn } from './usage-logs.sql.js';
import { type UsageBatch, usageRowId } from './usage-record.js';

export interface UsageWriteResult {
  records: number;
  /** Rows new to usage_logs: fewer than `records` only for a batch delivered again. */
  inserted: number;
}

/** A usage_logs row: its values in USAGE_LOG_COLUMNS' order, created_at as an ISO string. */
type UsageRow = CopyValue[];

const column = (name: UsageLogColumn) => USAGE_LOG_COLUMNS.indexOf(name);
const ALL = USAGE_LOG_COLUMNS.map((_, i) => i);
const KEY = column('api_key_id');
const CREATED_AT = column('created_at');

/** A job's rows, whichever payload format it has (usage-record.ts: UsageBatch). */
function rowsOf(batch: UsageBatch): UsageRow[] {
  if ('records' in batch) {
    return batch.records.map((record) => USAGE_LOG_COLUMNS.map((name) => record[name]));
  }
  return batch.rows.map((tuple, i) => {
    const row: UsageRow = [usageRowId(batch.id_prefix, i), new Date(tuple[0]).toISOString()];
    for (let j = 1; j < tuple.length; j += 1) row.push(tuple[j]);
    return row;
  });
}

/** Each key's latest use in a batch (ISO timestamps compare as strings). */
function latestUseByKey(rows: readonly UsageRow[]): Map<string, string> {
  const latest = new Map<string, string>();
  for (const row of rows) {
    const key = row[KEY] as string | null;
    const at = row[CREATED_AT] as string;
    if (key === null) continue;
    const seen = latest.get(key);
    if (seen === undefined || at > seen) latest.set(key, at);
  }
  return latest;
}

/**
 * The worker's side of the usage pipeline: a batch of usage records into usage_logs, each
 * request once however often the batch is delivered; usage_logs' trigger hands what the
 * rollups need of the new rows to usage_rollup_pending in the same statement (usage-rollups.ts
 * adds them to the rollups); then the keys' last_used_at.
 *
 * A batch is COPYed, Postgres' bulk load, in one statement: all of its rows or none commit. A batch delivered
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
    const rows = rowsOf(batch);
    const inserted = (await this.copied(rows)) ? rows.length : await this.insertedNew(rows);
    // From the whole batch, not only new rows: a batch whose insert committed before a crash
    // still sets last_used_at when it is delivered again. Idempotent.
    await this.lastUsed.record(latestUseByKey(rows));
    return { records: rows.length, inserted };
  }

  /**
   * The batch COPYed (one statement, so one transaction of its own, the trigger's rows
   * included); false if a row of it was already there.
   */
  private async copied(rows: readonly UsageRow[]): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      await copyFromText(client, 'usage_logs', USAGE_LOG_COLUMNS, copyLines(rows, ALL));
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** The batch's rows usage_logs does not hold yet, inserted; how many. */
  private async insertedNew(rows: readonly UsageRow[]): Promise<number> {
    const records = rows.map((row) =>
      Object.fromEntries(USAGE_LOG_COLUMNS.map((name, i) => [name, row[i]])),
    );
    const [result] = await this.dataSource.query<{ inserted: number }[]>(INSERT_NEW_USAGE_LOGS, [
      JSON.stringify(records),
    ]);
    return result?.inserted ?? 0;
  }
}
