import { Module } from '@nestjs/common';
import { LimitEventsRetention } from './limit-events-retention.js';
import { LimitEventsWriter } from './limit-events.writer.js';

/**
 * The worker's side of the rate-limit module: writing recorded events (for the `usage`
 * queue's processor, UsageIngestModule), and their retention.
 */
@Module({
  providers: [LimitEventsWriter, LimitEventsRetention],
  exports: [LimitEventsWriter, LimitEventsRetention],
})
export class LimitEventsModule {}
