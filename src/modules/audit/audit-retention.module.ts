import { Module } from '@nestjs/common';
import { AuditRetention } from './audit-retention.js';

/** The worker's side of the audit module: the retention purge (run by the retention queue). */
@Module({
  providers: [AuditRetention],
  exports: [AuditRetention],
})
export class AuditRetentionModule {}
