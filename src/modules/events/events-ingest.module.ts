import { Module } from '@nestjs/common';
import { EventsRetention } from './events-retention.js';
import { EventsStep } from './events-step.js';

/** The worker's side of Sentry ingestion: the parsing step over envelope_pending, retention. */
@Module({
  providers: [EventsStep, EventsRetention],
  exports: [EventsStep, EventsRetention],
})
export class EventsIngestModule {}
