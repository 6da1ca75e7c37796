import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { OutboxEvent } from './outbox-event.entity.js';
import type { WebhookEventType } from './webhook-events.js';

/** A domain event: what changed, for the organization's subscribed endpoints. */
export interface DomainEvent {
  organizationId: string;
  type: WebhookEventType;
  /** The resource as the API returns it, never a secret (key secret, password hash, token). */
  data: object;
}

/**
 * Writes a domain event to the outbox through `manager`, i.e. in the transaction of the change
 * that causes it: the change and its event commit or roll back together. The relay delivers
 * it to every active endpoint of the organization subscribed to its type or to `*`.
 */
export async function addOutboxEvent(manager: EntityManager, event: DomainEvent): Promise<void> {
  await manager.insert(OutboxEvent, {
    id: randomUUID(),
    organizationId: event.organizationId,
    type: event.type,
    payload: { ...event.data },
    createdAt: new Date(),
    dispatchedAt: null,
    webhookId: null,
  });
}
