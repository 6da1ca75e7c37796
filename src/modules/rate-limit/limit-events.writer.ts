import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LimitEventBatch } from './limit-events.js';

/**
 * The worker's side of quota and rate-limit events: one batch into `outbox_events` in one statement (for
 * webhook delivery). Refused requests are counted from usage_logs, not here.
 */
@Injectable()
export class LimitEventsWriter {
  constructor(private readonly dataSource: DataSource) {}

  async write(batch: LimitEventBatch): Promise<{ quotaEvents: number; windowEvents: number }> {
    const { quotaEvents, windowEvents = [] } = batch;
    const events = [...quotaEvents, ...windowEvents];
    if (events.length > 0) {
      // An organization deleted meanwhile has no one left to notify.
      await this.dataSource.query(
        `INSERT INTO outbox_events (organization_id, type, payload, created_at)
         SELECT e.organization_id, e.type, e.payload, (e.payload->>'occurred_at')::timestamptz
         FROM jsonb_to_recordset($1::jsonb) AS e(organization_id uuid, type text, payload jsonb)
         WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = e.organization_id)`,
        [JSON.stringify(events)],
      );
    }
    return { quotaEvents: quotaEvents.length, windowEvents: windowEvents.length };
  }
}
