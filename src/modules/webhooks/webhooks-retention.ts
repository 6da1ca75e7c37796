import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WebhookConfig } from '../../config/config.classes.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';

const DAY_MS = 86_400_000;

/**
 * A lifecycle event's dedupe row is kept this long, past the last moment the lifecycle job
 * could write the same event again: each is written inside its window, and no window runs
 * more than 30 days past the row (api_key.expiring: from 7 days before expiry to the expiry;
 * api_key.expired: up to 7 days after it; api_version.sunset_approaching: from 30 days before
 * the sunset to the sunset), with margin for a job that did not run for days.
 */
export const LIFECYCLE_DEDUPE_DAYS = 45;

/**
 * $1 = now - LIFECYCLE_DEDUPE_DAYS, $2 = now. Lifecycle dedupe rows older than $1, except
 * `api_version.deprecated` ones whose version is still deprecated and not yet sunset: that
 * event has no window (it is sent as long as the version stays deprecated, to each
 * organization that calls it), so its row stays while the version could send it again.
 */
const PURGE_LIFECYCLE_EVENTS = `
  DELETE FROM webhook_lifecycle_events e
  WHERE e.created_at < $1
    AND NOT (e.dedupe_key LIKE 'api_version.deprecated:%' AND EXISTS (
      SELECT 1 FROM api_versions v
      WHERE starts_with(e.dedupe_key, 'api_version.deprecated:' || v.version || ':')
        AND v.status <> 'sunset' AND (v.sunset_date IS NULL OR v.sunset_date > $2)))`;

export interface WebhooksPurge {
  outboxEvents: number;
  deliveries: number;
  lifecycleEvents: number;
}

/**
 * Keeps dispatched outbox events to WEBHOOK_OUTBOX_RETENTION_DAYS (at least 2: a delivery's
 * retries, about 28 hours, read its event), delivery attempts to WEBHOOK_LOG_RETENTION_DAYS,
 * and lifecycle dedupe rows while the lifecycle job could write their event again
 * (PURGE_LIFECYCLE_EVENTS); run hourly by the worker's retention queue. Undispatched events
 * are never deleted, however old.
 */
@Injectable()
export class WebhooksRetention {
  private readonly logger = new Logger('WebhooksRetention');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: WebhookConfig,
  ) {}

  async purge(now: Date = new Date()): Promise<WebhooksPurge> {
    const outboxCutoff = new Date(now.getTime() - this.config.outboxRetentionDays * DAY_MS);
    const deliveriesCutoff = new Date(now.getTime() - this.config.deliveriesRetentionDays * DAY_MS);
    const result = await maintenanceTransaction(this.dataSource, async (manager) => {
      const [, outboxEvents] = await manager.query<[unknown, number]>(
        'DELETE FROM outbox_events WHERE dispatched_at < $1',
        [outboxCutoff],
      );
      const [, deliveries] = await manager.query<[unknown, number]>(
        'DELETE FROM webhook_deliveries WHERE created_at < $1',
        [deliveriesCutoff],
      );
      const lifecycleCutoff = new Date(now.getTime() - LIFECYCLE_DEDUPE_DAYS * DAY_MS);
      const [, lifecycleEvents] = await manager.query<[unknown, number]>(PURGE_LIFECYCLE_EVENTS, [
        lifecycleCutoff,
        now,
      ]);
      return { outboxEvents, deliveries, lifecycleEvents };
    });
    this.logger.log({
      msg: 'webhooks retention',
      outboxCutoff: outboxCutoff.toISOString(),
      deliveriesCutoff: deliveriesCutoff.toISOString(),
      ...result,
    });
    return result;
  }
}
