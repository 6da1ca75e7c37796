import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AuditRetention } from './audit-retention.js';
import { AuditRetentionProcessor } from './audit-retention.processor.js';

/** The worker's side of the audit module: the retention purge. */
@Module({
  imports: [BullModule.registerQueue({ name: 'retention' })],
  providers: [AuditRetention, AuditRetentionProcessor],
})
export class AuditRetentionModule {}
