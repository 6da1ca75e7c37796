import { Module } from '@nestjs/common';
import { Limiter } from './limiter.js';

/**
 * The limiter alone (no policies): what the quota module needs to read its counters, without
 * depending on the rest of the rate-limit module (which depends on quotas).
 */
@Module({
  providers: [Limiter],
  exports: [Limiter],
})
export class LimiterModule {}
