import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxEvent } from '../webhooks/outbox-event.entity.js';
import { EventsRetention } from './events-retention.js';
import { EventsStep } from './events-step.js';
import { IssueAlerts } from './issue-alerts.js';
import { NotificationsProcessor } from './notifications.processor.js';

/**
 * The worker's side of Sentry ingestion: the parsing step over envelope_pending, retention,
 * and the new-issue alerts (the `notifications` queue).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([OutboxEvent]),
    BullModule.registerQueue({ name: 'notifications' }),
  ],
  providers: [EventsStep, EventsRetention, IssueAlerts, NotificationsProcessor],
  exports: [EventsStep, EventsRetention],
})
export class EventsIngestModule {}
