import { Module } from '@nestjs/common';
import { LimitEventsWriter } from './limit-events.writer.js';

/** The worker's side of quota events: writing them (for the `usage` queue's processor). */
@Module({
  providers: [LimitEventsWriter],
  exports: [LimitEventsWriter],
})
export class LimitEventsModule {}
