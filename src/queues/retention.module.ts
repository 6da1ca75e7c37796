import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AuditRetentionModule } from '../modules/audit/audit-retention.module.js';
import { LimitEventsModule } from '../modules/rate-limit/limit-events.module.js';
import { RetentionProcessor } from './retention.processor.js';

/** The worker's retention queue: the audit trail's and the rate-limit events' purges. */
@Module({
  imports: [
    BullModule.registerQueue({ name: 'retention' }),
    AuditRetentionModule,
    LimitEventsModule,
  ],
  providers: [RetentionProcessor],
})
export class RetentionModule {}
