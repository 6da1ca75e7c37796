import { Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { EventsIngestModule } from './modules/events/events-ingest.module.js';
import { UsageIngestModule } from './modules/usage/usage-ingest.module.js';
import { WebhookDeliveryModule } from './modules/webhooks/webhook-delivery.module.js';
import { QueuesModule } from './queues/queues.module.js';
import { RetentionModule } from './queues/retention.module.js';
import { RedisModule } from './redis/redis.module.js';
import { WorkerReadiness } from './queues/worker-readiness.js';

/**
 * The worker process: the same feature services as the api, plus the BullMQ processors
 * (registered per queue as the features that need them land), and no HTTP server.
 */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    QueuesModule,
    UsageIngestModule,
    EventsIngestModule,
    RetentionModule,
    WebhookDeliveryModule,
  ],
  providers: [WorkerReadiness],
})
export class WorkerModule {}
