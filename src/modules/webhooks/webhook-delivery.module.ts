import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxEvent } from './outbox-event.entity.js';
import { WebhookDelivery } from './webhook-delivery.entity.js';
import { WebhookEndpoint } from './webhook-endpoint.entity.js';
import { WebhookDeliverer } from './webhook-deliverer.js';
import { WebhookEndpointSlots } from './webhook-endpoint-slots.js';
import { WebhookDispatchRepository } from './webhook-dispatch.repository.js';
import { WebhookRelay } from './webhook-relay.js';
import { WebhookSecretBox } from './webhook-secret-box.js';
import { WebhooksProcessor } from './webhooks.processor.js';

/** The worker's side of webhooks: the outbox relay and the `webhooks` queue's deliveries. */
@Module({
  imports: [
    BullModule.registerQueue({ name: 'webhooks' }),
    TypeOrmModule.forFeature([WebhookEndpoint, WebhookDelivery, OutboxEvent]),
  ],
  providers: [
    WebhookDispatchRepository,
    WebhookSecretBox,
    WebhookDeliverer,
    WebhookEndpointSlots,
    WebhookRelay,
    WebhooksProcessor,
  ],
  exports: [WebhookDispatchRepository],
})
export class WebhookDeliveryModule {}
