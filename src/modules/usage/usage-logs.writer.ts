import { Injectable, Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { type CopyValue, copyFromText, copyLines, copyText } from '../../database/copy-rows.js';
import { isDataRefused, isUniqueViolation } from '../../database/postgres-errors.js';
import { KeyLastUsed } from '../keys/key-last-used.js';
import { INSERT_NEW_USAGE_LOGS, USAGE_LOG_COLUMNS } from './usage-logs.sql.js';
import { type UsageBatch, usageRowId } from './usage-record.js';

export interface UsageWriteResult {
  records: number;
  /** Rows new to usage_logs: fewer than `records` only for a batch delivered again. */
  inserted: number;
}

/** A usage_logs row: its values in USAGE_LOG_COLUMNS' order, created_at as an ISO string. */
type UsageRow = CopyValue[];

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

/**
 * A job's rows in COPY's text format, in USAGE_LOG_COLUMNS' order. Compact rows are written
 * straight from their tuples, a line at a time, with no row arrays in between: half the CPU
 * and garbage of rowsOf + copyLines (~1.6 vs ~2.6–3.4 ms for 1,000 rows, JSON.parse included).
 */
export function copyTextOf(batch: UsageBatch): string {
  if ('records' in batch) return copyLines(batch.records, USAGE_LOG_COLUMNS);
  const { id_prefix: prefix, rows } = batch;
  let text = '';
  for (let i = 0; i < rows.length; i += 1) {
    const tuple = rows[i];
    let line = `${usageRowId(prefix, i)}\t${new Date(tuple[0]).toISOString()}`;
    for (let j = 1; j < tuple.length; j += 1) line += `\t${copyText(tuple[j] ?? null)}`;
    text += `${line}\n`;
  }
  return text;
}

/** Each key's latest use in a batch, as an ISO timestamp. */
export function latestUseByKey(batch: UsageBatch): Map<string, string> {
  const latest = new Map<string, number>();
  const use = (key: string | null, atMs: number) => {
    if (key === null) return;
    const seen = latest.get(key);
    if (seen === undefined || atMs > seen) latest.set(key, atMs);
  };
  if ('records' in batch) {
    for (const record of batch.records) use(record.api_key_id, Date.parse(record.created_at));
  } else {
    for (const tuple of batch.rows) use(tuple[2], tuple[0]);
  }
  return new Map([...latest].map(([key, atMs]) => [key, new Date(atMs).toISOString()]));
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
 * A batch Postgres refuses for the data of a row (a value out of a column's range) is written
 * in halves, down to that row alone, which is left out (logged): retrying the same data fails
 * the same way, and one such row would otherwise hold back, then lose, the rest of its batch.
 */
@Injectable()
export class UsageLogsWriter {
  private readonly logger = new Logger('UsageLogsWriter');

  constructor(
    private readonly dataSource: DataSource,
    private readonly lastUsed: KeyLastUsed,
  ) {}

  async write(batch: UsageBatch): Promise<UsageWriteResult> {
    const count = 'records' in batch ? batch.records.length : batch.rows.length;
    let inserted: number;
    try {
      inserted = (await this.copied(copyTextOf(batch)))
        ? count
        : await this.insertedNew(rowsOf(batch));
    } catch (error) {
      if (!isDataRefused(error)) throw error;
      inserted = await this.insertedApart(rowsOf(batch));
    }
    // From the whole batch, not only new rows: a batch whose insert committed before a crash
    // still sets last_used_at when it is delivered again. Idempotent.
    await this.lastUsed.record(latestUseByKey(batch));
    return { records: count, inserted };
  }

  /**
   * The batch COPYed (one statement, so one transaction of its own, the trigger's rows
   * included); false if a row of it was already there.
   */
  private async copied(text: string): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      await copyFromText(client, 'usage_logs', USAGE_LOG_COLUMNS, text);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    } finally {
      await runner.release();
    }
  }

  /**
   * Rows of which one or more were refused for their data, inserted in halves (each half
   * skipping the rows usage_logs holds); a row refused alone is left out. How many were new.
   */
  private async insertedApart(rows: readonly UsageRow[]): Promise<number> {
    try {
      return await this.insertedNew(rows);
    } catch (error) {
      if (!isDataRefused(error)) throw error;
      if (rows.length === 1) {
        const [id, createdAt] = rows[0] ?? [];
        const reason = (error as Error).message;
        this.logger.error({ msg: 'usage record refused, left out', id, createdAt, reason });
        return 0;
      }
      const half = Math.ceil(rows.length / 2);
      const first = await this.insertedApart(rows.slice(0, half));
      return first + (await this.insertedApart(rows.slice(half)));
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
