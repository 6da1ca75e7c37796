import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { systemContext } from '../../common/request-context.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { recordAudit } from '../audit/audit-record.js';
import type { OutboxEvent } from './outbox-event.entity.js';
import { addOutboxEvent } from './outbox-writer.js';
import type { WebhookDelivery } from './webhook-delivery.entity.js';
import { WebhookEndpoint } from './webhook-endpoint.entity.js';
import {
  CLAIM_PENDING,
  DELIVERY_TARGET,
  MARK_DISPATCHED,
  RECORD_ATTEMPT,
} from './webhook-dispatch.sql.js';

/** One delivery job: one event to one endpoint. */
export interface WebhookDeliveryJob {
  organizationId: string;
  eventId: string;
  webhookId: string;
}

/** What one delivery attempt reads: the endpoint's URL and secrets, and the event. */
export interface DeliveryTarget extends Pick<
  WebhookEndpoint,
  'url' | 'secretSealed' | 'previousSecretSealed' | 'previousSecretExpiresAt'
> {
  webhookId: string;
  eventId: string;
  eventType: string;
  createdAt: Date;
  payload: OutboxEvent['payload'];
}

export type NewAttempt = Omit<WebhookDelivery, 'id' | 'createdAt' | 'attempt'>;

/**
 * The worker's side of webhooks: claiming outbox events for the relay, and what a delivery
 * reads and writes (the event, the endpoint, each attempt, a 410's disabling).
 */
@Injectable()
export class WebhookDispatchRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` undispatched outbox events (skipping those another relay holds),
   * hands their deliveries (one per event and subscribed active endpoint) to `enqueue`, and
   * marks the events dispatched only after it returns, in the same transaction: a crash
   * before the commit leaves them pending, to be handed over again (at least once).
   */
  async relay(
    limit: number,
    enqueue: (jobs: WebhookDeliveryJob[]) => Promise<void>,
  ): Promise<{ events: number; jobs: number }> {
    return this.dataSource.transaction(async (manager: EntityManager) => {
      const rows = await manager.query<
        (Omit<WebhookDeliveryJob, 'webhookId'> & {
          webhookId: string | null;
        })[]
      >(CLAIM_PENDING, [limit]);
      if (rows.length === 0) return { events: 0, jobs: 0 };
      const ids = [...new Set(rows.map((row) => row.eventId))];
      const jobs = rows.filter((row): row is WebhookDeliveryJob => row.webhookId !== null);
      if (jobs.length > 0) await enqueue(jobs);
      await manager.query(MARK_DISPATCHED, [ids]);
      return { events: ids.length, jobs: jobs.length };
    });
  }

  /** The active endpoint and the event of one delivery job, or null when either is gone or off. */
  async target(job: WebhookDeliveryJob): Promise<DeliveryTarget | null> {
    const rows = await this.dataSource.query<DeliveryTarget[]>(DELIVERY_TARGET, [
      job.organizationId,
      job.webhookId,
      job.eventId,
    ]);
    return rows[0] ?? null;
  }

  /** Records one attempt, numbered after the attempts of this event to this endpoint so far. */
  async recordAttempt(attempt: NewAttempt): Promise<void> {
    await this.dataSource.query(RECORD_ATTEMPT, [
      attempt.organizationId,
      attempt.webhookId,
      attempt.eventId,
      attempt.eventType,
      attempt.status,
      attempt.responseStatus,
      attempt.durationMs,
      attempt.error,
      attempt.responseBody,
    ]);
  }

  /**
   * Turns the endpoint off for `reason`, with an audit entry by the system and a
   * `webhook.endpoint_disabled` event for the organization's other endpoints (this one is no
   * longer active, so the relay does not address it), in one transaction. False when it was
   * already off.
   */
  async disable(scope: TenantScope, id: string, reason: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        WebhookEndpoint,
        { ...scope, id, active: true },
        { active: false, disabledReason: reason },
      );
      if (result.affected === 0) return false;
      const endpoint = await manager.findOneByOrFail(WebhookEndpoint, { ...scope, id });
      await addOutboxEvent(manager, {
        organizationId: scope.organizationId,
        type: 'webhook.endpoint_disabled',
        data: { webhook_id: id, url: endpoint.url, reason, disabled_at: new Date().toISOString() },
      });
      await recordAudit(manager, systemContext('gatehouse worker'), {
        action: 'webhook.disabled',
        organizationId: scope.organizationId,
        target: { type: 'webhook', id },
        changes: { active: { from: true, to: false }, reason },
        actor: { type: 'system', id: 'webhook-delivery' },
      });
      return true;
    });
  }
}
