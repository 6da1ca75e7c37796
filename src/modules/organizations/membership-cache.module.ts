import { Module } from '@nestjs/common';
import { MembershipCache } from './membership-cache.js';

/**
 * The membership cache on its own, so the auth guard (which checks every bearer token
 * against it) and the modules that change memberships share one instance without importing
 * each other.
 */
@Module({
  providers: [MembershipCache],
  exports: [MembershipCache],
})
export class MembershipCacheModule {}
