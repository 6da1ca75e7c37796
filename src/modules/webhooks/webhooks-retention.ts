import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WebhookConfig } from '../../config/config.classes.js';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';

const DAY_MS = 86_400_000;

export interface WebhooksPurge {
  outboxEvents: number;
  deliveries: number;
}

/**
 * Keeps dispatched outbox events to WEBHOOK_OUTBOX_RETENTION_DAYS (at least 2: a delivery's
 * retries, about 28 hours, read its event) and delivery attempts to
 * WEBHOOK_LOG_RETENTION_DAYS; run hourly by the worker's retention queue. Undispatched
 * events are never deleted, however old.
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
      return { outboxEvents, deliveries };
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
