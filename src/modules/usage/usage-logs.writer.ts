import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KeyLastUsed } from '../keys/key-last-used.js';
import { INSERT_USAGE_LOGS } from './usage-logs.sql.js';
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
 * The worker's side of the usage pipeline: a batch of usage records into usage_logs in one
 * statement, exactly once however often the batch is delivered (usage-logs.sql.ts), then the
 * keys' last_used_at.
 */
@Injectable()
export class UsageLogsWriter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly lastUsed: KeyLastUsed,
  ) {}

  async write(batch: UsageBatch): Promise<UsageWriteResult> {
    const inserted = await this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<{ inserted: number }[]>(INSERT_USAGE_LOGS, [
        JSON.stringify(batch.records),
      ]);
      // The rollups are updated by the same statement, from the rows it inserted.
      return row?.inserted ?? 0;
    });
    // From the whole batch, not only new rows: a batch whose insert committed before a crash
    // still sets last_used_at when it is delivered again. Idempotent.
    await this.lastUsed.record(latestUseByKey(batch.records));
    return { records: batch.records.length, inserted };
  }
}
