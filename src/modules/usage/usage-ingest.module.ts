import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { KeyLastUsedModule } from '../keys/key-last-used.module.js';
import { LimitEventsModule } from '../rate-limit/limit-events.module.js';
import { UsageLogsRetention } from './usage-logs-retention.js';
import { UsageLogsWriter } from './usage-logs.writer.js';
import { UsageRollups } from './usage-rollups.js';
import { UsageProcessor } from './usage.processor.js';
import { UsageRowsIngested } from './usage-rows-ingested.js';

/** The worker's side of the usage pipeline: the `usage` queue's processor, rollups, retention. */
@Module({
  imports: [BullModule.registerQueue({ name: 'usage' }), LimitEventsModule, KeyLastUsedModule],
  providers: [UsageLogsWriter, UsageRollups, UsageProcessor, UsageRowsIngested, UsageLogsRetention],
  exports: [UsageLogsRetention],
})
export class UsageIngestModule {}
