import { Module } from '@nestjs/common';
import { AnalyticsRepository } from '../analytics/analytics.repository.js';
import { VersionCalls } from '../analytics/version-calls.js';
import { WebhookDeliveryModule } from './webhook-delivery.module.js';
import { WebhookLifecycle } from './webhook-lifecycle.js';
import { WebhookLifecycleRepository } from './webhook-lifecycle.repository.js';
import { WebhooksRetention } from './webhooks-retention.js';

/**
 * The worker's scheduled webhook jobs (run by the retention queue): the lifecycle events and
 * the outbox and attempts log retention. Reads version callers from the usage rollups.
 */
@Module({
  imports: [WebhookDeliveryModule],
  providers: [
    AnalyticsRepository,
    VersionCalls,
    WebhookLifecycleRepository,
    WebhookLifecycle,
    WebhooksRetention,
  ],
  exports: [WebhookLifecycle, WebhooksRetention],
})
export class WebhookLifecycleModule {}
