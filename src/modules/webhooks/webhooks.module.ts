import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxEvent } from './outbox-event.entity.js';
import { WebhookDelivery } from './webhook-delivery.entity.js';
import { WebhookEndpoint } from './webhook-endpoint.entity.js';
import { WebhookSecretBox } from './webhook-secret-box.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

/** The api's side of webhooks: the endpoints' routes, tests and manual retries. */
@Module({
  imports: [
    BullModule.registerQueue({ name: 'webhooks' }),
    TypeOrmModule.forFeature([WebhookEndpoint, WebhookDelivery, OutboxEvent]),
  ],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhooksRepository, WebhookSecretBox],
})
export class WebhooksModule {}
