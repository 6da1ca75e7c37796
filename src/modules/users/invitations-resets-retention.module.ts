import { Module } from '@nestjs/common';
import { InvitationsResetsRetention } from './invitations-resets-retention.js';

/** The worker's side of invitations and password resets: their purge (run by the retention queue). */
@Module({
  providers: [InvitationsResetsRetention],
  exports: [InvitationsResetsRetention],
})
export class InvitationsResetsRetentionModule {}
