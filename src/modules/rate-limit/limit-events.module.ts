import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { LimitEventsProcessor } from './limit-events.processor.js';
import { LimitEventsRetention } from './limit-events-retention.js';
import { LimitEventsWriter } from './limit-events.writer.js';

/** The worker's side of the rate-limit module: writing recorded events, and their retention. */
@Module({
  imports: [BullModule.registerQueue({ name: 'usage' })],
  providers: [LimitEventsWriter, LimitEventsProcessor, LimitEventsRetention],
  exports: [LimitEventsRetention],
})
export class LimitEventsModule {}
