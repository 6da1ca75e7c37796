import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LimitEventBatch } from './limit-events.js';
import { MERGE_REFUSALS } from './limit-events.sql.js';

/**
 * The worker's side of rate-limit events: one batch in one transaction, refusals merged into
 * `rate_limit_events` (one row per credential, window and minute, for analytics) and quota
 * events to `outbox_events` (for webhook delivery).
 */
@Injectable()
export class LimitEventsWriter {
  constructor(private readonly dataSource: DataSource) {}

  async write(batch: LimitEventBatch): Promise<{ rateLimitEvents: number; quotaEvents: number }> {
    await this.dataSource.transaction(async (manager) => {
      if (batch.rateLimitEvents.length > 0) {
        await manager.query(MERGE_REFUSALS, [JSON.stringify(batch.rateLimitEvents)]);
      }
      if (batch.quotaEvents.length > 0) {
        // An organization deleted meanwhile has no one left to notify.
        await manager.query(
          `INSERT INTO outbox_events (organization_id, type, payload, created_at)
           SELECT e.organization_id, e.type, e.payload, (e.payload->>'occurred_at')::timestamptz
           FROM jsonb_to_recordset($1::jsonb) AS e(organization_id uuid, type text, payload jsonb)
           WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = e.organization_id)`,
          [JSON.stringify(batch.quotaEvents)],
        );
      }
    });
    return {
      rateLimitEvents: batch.rateLimitEvents.length,
      quotaEvents: batch.quotaEvents.length,
    };
  }
}
