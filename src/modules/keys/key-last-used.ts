import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * api_keys.last_used_at, derived by the worker from usage records (never on the request
 * path). A key's time is written only when it is at least a minute past the stored one: at
 * most one write per key per minute of its use, however many batches name it, and a batch
 * delivered again or late writes nothing older.
 */
const TOUCH_KEYS = `
  UPDATE api_keys k SET last_used_at = v.used_at
  FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, used_at)
  WHERE k.id = v.id
    AND (k.last_used_at IS NULL OR k.last_used_at <= v.used_at - interval '1 minute')`;

@Injectable()
export class KeyLastUsed {
  constructor(private readonly dataSource: DataSource) {}

  /** `lastUsed`: key id -> its latest use (ISO) in a batch. */
  async record(lastUsed: ReadonlyMap<string, string>): Promise<void> {
    if (lastUsed.size === 0) return;
    // Sorted: looked up in this order, concurrent batches lock the rows in one order (a
    // deadlock all the same fails the job, and its retry writes the same times).
    const ids = [...lastUsed.keys()].sort();
    await this.dataSource.query(TOUCH_KEYS, [ids, ids.map((id) => lastUsed.get(id))]);
  }
}
