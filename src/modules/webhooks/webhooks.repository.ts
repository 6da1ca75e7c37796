import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import type { RequestContext } from '../../common/request-context.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { diff, recordAudit } from '../audit/audit-record.js';
import { OutboxEvent } from './outbox-event.entity.js';
import { WebhookDelivery } from './webhook-delivery.entity.js';
import { WebhookEndpoint } from './webhook-endpoint.entity.js';
import { WebhookErrors } from './webhooks.errors.js';

export type NewWebhook = Pick<
  WebhookEndpoint,
  'id' | 'url' | 'description' | 'events' | 'secretSealed'
>;
export type WebhookChanges = Partial<
  Pick<WebhookEndpoint, 'url' | 'description' | 'events' | 'active' | 'disabledReason'>
>;

/** What the audit trail shows of an endpoint: never its secret. */
function auditable(webhook: Partial<WebhookEndpoint>): Record<string, unknown> {
  return {
    url: webhook.url,
    description: webhook.description,
    events: webhook.events,
    active: webhook.active,
  };
}

/** The endpoint, locked for the rest of the transaction; a 404 when it is not the scope's. */
async function locked(
  manager: EntityManager,
  scope: TenantScope,
  id: string,
): Promise<WebhookEndpoint> {
  const webhook = await manager.findOne(WebhookEndpoint, {
    where: { ...scope, id },
    lock: { mode: 'pessimistic_write' },
  });
  if (webhook === null) throw WebhookErrors.notFound();
  return webhook;
}

@Injectable()
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(scope: TenantScope, page: PageQuery): Promise<[WebhookEndpoint[], number]> {
    return this.dataSource.manager.findAndCount(WebhookEndpoint, {
      where: { ...scope },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
  }

  async findById(scope: TenantScope, id: string): Promise<WebhookEndpoint | null> {
    return this.dataSource.manager.findOneBy(WebhookEndpoint, { ...scope, id });
  }

  async create(
    scope: TenantScope,
    ctx: RequestContext,
    fields: NewWebhook,
  ): Promise<WebhookEndpoint> {
    return this.dataSource.transaction(async (manager) => {
      const webhook = await manager.save(
        manager.create(WebhookEndpoint, {
          ...fields,
          ...scope,
          active: true,
          disabledReason: null,
        }),
      );
      await recordAudit(manager, ctx, {
        action: 'webhook.created',
        organizationId: scope.organizationId,
        target: { type: 'webhook', id: webhook.id },
        changes: auditable(webhook),
      });
      return webhook;
    });
  }

  async update(
    scope: TenantScope,
    ctx: RequestContext,
    id: string,
    changes: WebhookChanges,
  ): Promise<WebhookEndpoint> {
    return this.dataSource.transaction(async (manager) => {
      const before = await locked(manager, scope, id);
      if (Object.keys(changes).length > 0)
        await manager.update(WebhookEndpoint, { ...scope, id }, changes);
      const after = await manager.findOneByOrFail(WebhookEndpoint, { ...scope, id });
      await recordAudit(manager, ctx, {
        action: 'webhook.updated',
        organizationId: scope.organizationId,
        target: { type: 'webhook', id },
        changes: diff(auditable(before), auditable(after)),
      });
      return after;
    });
  }

  async remove(scope: TenantScope, ctx: RequestContext, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const webhook = await manager.findOneBy(WebhookEndpoint, { ...scope, id });
      if (webhook === null) throw WebhookErrors.notFound();
      await manager.delete(WebhookEndpoint, { ...scope, id });
      await recordAudit(manager, ctx, {
        action: 'webhook.deleted',
        organizationId: scope.organizationId,
        target: { type: 'webhook', id },
        changes: auditable(webhook),
      });
    });
  }

  /**
   * Replaces the signing secret; the one it replaces keeps signing alongside until
   * `overlapUntil` (a secret still overlapping from an earlier rotation stops now). The audit
   * entry says until when, never a secret.
   */
  async rotateSecret(
    scope: TenantScope,
    ctx: RequestContext,
    id: string,
    secretSealed: string,
    overlapUntil: Date,
  ): Promise<WebhookEndpoint> {
    return this.dataSource.transaction(async (manager) => {
      const before = await locked(manager, scope, id);
      await manager.update(
        WebhookEndpoint,
        { ...scope, id },
        {
          secretSealed,
          previousSecretSealed: before.secretSealed,
          previousSecretExpiresAt: overlapUntil,
        },
      );
      await recordAudit(manager, ctx, {
        action: 'webhook.secret_rotated',
        organizationId: scope.organizationId,
        target: { type: 'webhook', id },
        changes: { previous_secret_expires_at: overlapUntil.toISOString() },
      });
      return manager.findOneByOrFail(WebhookEndpoint, { ...scope, id });
    });
  }

  /**
   * A `webhook.test` event for this one endpoint, written to the outbox (the relay delivers
   * it like any other). Refused for a missing or disabled endpoint.
   */
  async addTestEvent(scope: TenantScope, id: string): Promise<OutboxEvent> {
    return this.dataSource.transaction(async (manager) => {
      const webhook = await manager.findOneBy(WebhookEndpoint, { ...scope, id });
      if (webhook === null) throw WebhookErrors.notFound();
      if (!webhook.active) throw WebhookErrors.inactive();
      return manager.save(
        manager.create(OutboxEvent, {
          id: randomUUID(),
          ...scope,
          type: 'webhook.test',
          payload: { webhook_id: id, message: 'A test event from Gatehouse' },
          createdAt: new Date(),
          dispatchedAt: null,
          webhookId: id,
        }),
      );
    });
  }

  async findEvent(scope: TenantScope, eventId: string): Promise<OutboxEvent | null> {
    return this.dataSource.manager.findOneBy(OutboxEvent, { ...scope, id: eventId });
  }

  /** An endpoint's delivery attempts, newest first. */
  async deliveries(
    scope: TenantScope,
    webhookId: string,
    page: PageQuery,
  ): Promise<[WebhookDelivery[], number]> {
    return this.dataSource.manager.findAndCount(WebhookDelivery, {
      where: { ...scope, webhookId },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: page.offset,
      take: page.limit,
    });
  }

  async findDelivery(scope: TenantScope, id: string): Promise<WebhookDelivery | null> {
    return this.dataSource.manager.findOneBy(WebhookDelivery, { ...scope, id });
  }
}
