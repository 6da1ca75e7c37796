import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LimitEventBatch } from './limit-events.js';

/**
 * The worker's side of rate-limit events: one batch in one transaction, rate-limit events to
 * `rate_limit_events` (analytics) and quota events to `outbox_events` (for webhook delivery).
 */
@Injectable()
export class LimitEventsWriter {
  constructor(private readonly dataSource: DataSource) {}

  async write(batch: LimitEventBatch): Promise<{ rateLimitEvents: number; quotaEvents: number }> {
    await this.dataSource.transaction(async (manager) => {
      if (batch.rateLimitEvents.length > 0) {
        await manager.query(
          `INSERT INTO rate_limit_events (organization_id, api_key_id, user_id, method, endpoint,
             limit_type, limit_source, limit_value, current_usage, request_id, occurred_at)
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(organization_id uuid, api_key_id uuid,
             user_id uuid, method text, endpoint text, limit_type text, limit_source text,
             limit_value bigint, current_usage bigint, request_id text, occurred_at timestamptz)`,
          [JSON.stringify(batch.rateLimitEvents)],
        );
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
