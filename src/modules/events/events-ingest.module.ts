import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxEvent } from '../webhooks/outbox-event.entity.js';
import { EventsRetention } from './events-retention.js';
import { EventsStep } from './events-step.js';

/** The worker's side of Sentry ingestion: the parsing step over envelope_pending, retention. */
@Module({
  imports: [TypeOrmModule.forFeature([OutboxEvent])],
  providers: [EventsStep, EventsRetention],
  exports: [EventsStep, EventsRetention],
})
export class EventsIngestModule {}
