import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { LimitEventsProcessor } from './limit-events.processor.js';
import { LimitEventsWriter } from './limit-events.writer.js';

/** The worker's side of the rate-limit module: writing recorded events. */
@Module({
  imports: [BullModule.registerQueue({ name: 'usage' })],
  providers: [LimitEventsWriter, LimitEventsProcessor],
})
export class LimitEventsModule {}
