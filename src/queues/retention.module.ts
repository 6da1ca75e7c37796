import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AuditRetentionModule } from '../modules/audit/audit-retention.module.js';
import { EventsIngestModule } from '../modules/events/events-ingest.module.js';
import { InvitationsResetsRetentionModule } from '../modules/users/invitations-resets-retention.module.js';
import { UsageIngestModule } from '../modules/usage/usage-ingest.module.js';
import { WebhookLifecycleModule } from '../modules/webhooks/webhook-lifecycle.module.js';
import { RetentionProcessor } from './retention.processor.js';

/**
 * The worker's retention queue: the audit trail's, the usage logs', the Sentry events', the
 * webhook outbox's and
 * attempts log's, and the expired invitations' and password resets' purges; and the webhook
 * lifecycle events.
 */
@Module({
  imports: [
    BullModule.registerQueue({ name: 'retention' }),
    AuditRetentionModule,
    EventsIngestModule,
    InvitationsResetsRetentionModule,
    UsageIngestModule,
    WebhookLifecycleModule,
  ],
  providers: [RetentionProcessor],
})
export class RetentionModule {}
