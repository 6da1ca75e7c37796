import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { CommonErrors } from '../../common/app-error.js';
import { type Page, page } from '../../common/envelope.js';
import type { PageQuery } from '../../common/pagination.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import { rejectNulls } from '../../common/validation.js';
import { WebhookConfig } from '../../config/config.classes.js';
import type { JobName } from '../../queues/jobs.js';
import type { OutboxEvent } from './outbox-event.entity.js';
import type { WebhookDelivery } from './webhook-delivery.entity.js';
import type { WebhookEndpoint } from './webhook-endpoint.entity.js';
import { wireEventId } from './webhook-events.js';
import { WebhookSecretBox } from './webhook-secret-box.js';
import { SECRET_OVERLAP_MS, generateSecret, secretKey } from './webhook-signature.js';
import { WebhookUrlRefused, checkWebhookUrl } from './webhook-url-guard.js';
import type {
  CreateWebhookDto,
  UpdateWebhookDto,
  WebhookDeliveryResponse,
  WebhookEventResponse,
  WebhookResponse,
  WebhookRotatedSecretResponse,
  WebhookWithSecretResponse,
} from './webhooks.dto.js';
import { WebhookErrors } from './webhooks.errors.js';
import { type WebhookChanges, WebhooksRepository } from './webhooks.repository.js';

const DELIVER: JobName<'webhooks'> = 'webhook.deliver';

function toResponse(webhook: WebhookEndpoint): WebhookResponse {
  return {
    id: webhook.id,
    organization_id: webhook.organizationId,
    url: webhook.url,
    description: webhook.description,
    events: webhook.events,
    active: webhook.active,
    disabled_reason: webhook.disabledReason,
    created_at: webhook.createdAt.toISOString(),
    updated_at: webhook.updatedAt.toISOString(),
  };
}

function toEventResponse(event: OutboxEvent): WebhookEventResponse {
  return {
    id: wireEventId(event.id),
    type: event.type,
    created_at: event.createdAt.toISOString(),
    data: event.payload,
  };
}

function toDeliveryResponse(delivery: WebhookDelivery): WebhookDeliveryResponse {
  return {
    id: delivery.id,
    webhook_id: delivery.webhookId,
    event_id: wireEventId(delivery.eventId),
    event_type: delivery.eventType,
    attempt: delivery.attempt,
    status: delivery.status,
    response_status: delivery.responseStatus,
    duration_ms: delivery.durationMs,
    error: delivery.error,
    response_body: delivery.responseBody,
    created_at: delivery.createdAt.toISOString(),
  };
}

@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly secrets: WebhookSecretBox,
    private readonly config: WebhookConfig,
    @InjectQueue('webhooks') private readonly queue: Queue,
  ) {}

  /** The URL normalized, or a 400 saying why it is refused (the SSRF guard). */
  private async checkedUrl(url: string): Promise<string> {
    try {
      return await checkWebhookUrl(url, this.config.allowPrivateUrls);
    } catch (error) {
      if (error instanceof WebhookUrlRefused) {
        throw CommonErrors.validation([{ field: 'url', message: error.message }], error.message);
      }
      throw error;
    }
  }

  private async found(ctx: AuthenticatedContext, id: string): Promise<WebhookEndpoint> {
    const webhook = await this.webhooks.findById(tenantOf(ctx), id);
    if (webhook === null) throw WebhookErrors.notFound();
    return webhook;
  }

  async list(ctx: AuthenticatedContext, query: PageQuery): Promise<Page<WebhookResponse>> {
    const [webhooks, total] = await this.webhooks.list(tenantOf(ctx), query);
    return page(webhooks.map(toResponse), total, query);
  }

  async get(ctx: AuthenticatedContext, id: string): Promise<WebhookResponse> {
    return toResponse(await this.found(ctx, id));
  }

  async create(
    ctx: AuthenticatedContext,
    dto: CreateWebhookDto,
  ): Promise<WebhookWithSecretResponse> {
    rejectNulls(dto, ['secret']);
    if (dto.secret !== undefined && secretKey(dto.secret) === null) {
      throw CommonErrors.validation([
        { field: 'secret', message: 'secret must be whsec_ followed by base64 of 24 to 64 bytes' },
      ]);
    }
    const url = await this.checkedUrl(dto.url);
    const secret = dto.secret ?? generateSecret();
    const id = randomUUID();
    const webhook = await this.webhooks.create(tenantOf(ctx), ctx, {
      id,
      url,
      description: dto.description ?? null,
      events: dto.events,
      secretSealed: this.secrets.seal(secret, id),
    });
    return { ...toResponse(webhook), secret };
  }

  async update(
    ctx: AuthenticatedContext,
    id: string,
    dto: UpdateWebhookDto,
  ): Promise<WebhookResponse> {
    rejectNulls(dto, ['url', 'events', 'active']);
    await this.found(ctx, id);
    const changes: WebhookChanges = {};
    if (dto.url !== undefined) changes.url = await this.checkedUrl(dto.url);
    if (dto.description !== undefined) changes.description = dto.description;
    if (dto.events !== undefined) changes.events = dto.events;
    if (dto.active !== undefined) {
      changes.active = dto.active;
      changes.disabledReason = null;
    }
    return toResponse(await this.webhooks.update(tenantOf(ctx), ctx, id, changes));
  }

  async remove(ctx: AuthenticatedContext, id: string): Promise<void> {
    await this.webhooks.remove(tenantOf(ctx), ctx, id);
  }

  /**
   * A new signing secret, returned this once; the old one keeps signing alongside it (a second
   * `v1,` signature) for SECRET_OVERLAP_MS, so receivers can switch without missing a delivery.
   */
  async rotateSecret(ctx: AuthenticatedContext, id: string): Promise<WebhookRotatedSecretResponse> {
    const secret = generateSecret();
    const overlapUntil = new Date(Date.now() + SECRET_OVERLAP_MS);
    const webhook = await this.webhooks.rotateSecret(
      tenantOf(ctx),
      ctx,
      id,
      this.secrets.seal(secret, id),
      overlapUntil,
    );
    return {
      ...toResponse(webhook),
      secret,
      previous_secret_expires_at: overlapUntil.toISOString(),
    };
  }

  /** Writes a `webhook.test` event for this endpoint to the outbox; the worker delivers it. */
  async test(ctx: AuthenticatedContext, id: string): Promise<WebhookEventResponse> {
    return toEventResponse(await this.webhooks.addTestEvent(tenantOf(ctx), id));
  }

  async deliveries(
    ctx: AuthenticatedContext,
    id: string,
    query: PageQuery,
  ): Promise<Page<WebhookDeliveryResponse>> {
    await this.found(ctx, id);
    const [deliveries, total] = await this.webhooks.deliveries(tenantOf(ctx), id, query);
    return page(deliveries.map(toDeliveryResponse), total, query);
  }

  /**
   * Delivers the attempt's event to its endpoint once more, now (one attempt, recorded like
   * the others; no retry schedule of its own).
   */
  async retry(ctx: AuthenticatedContext, deliveryId: string): Promise<WebhookEventResponse> {
    const scope = tenantOf(ctx);
    const delivery = await this.webhooks.findDelivery(scope, deliveryId);
    if (delivery === null) throw WebhookErrors.deliveryNotFound();
    const [webhook, event] = await Promise.all([
      this.webhooks.findById(scope, delivery.webhookId),
      this.webhooks.findEvent(scope, delivery.eventId),
    ]);
    if (webhook === null || event === null) throw WebhookErrors.deliveryNotFound();
    if (!webhook.active) throw WebhookErrors.inactive();
    await this.queue.add(
      DELIVER,
      { organizationId: scope.organizationId, eventId: event.id, webhookId: webhook.id },
      { jobId: `retry-${delivery.id}-${randomUUID()}`, attempts: 1 },
    );
    return toEventResponse(event);
  }
}
