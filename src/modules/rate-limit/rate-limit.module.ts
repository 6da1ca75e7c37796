import { Module } from '@nestjs/common';
import { Limiter } from './limiter.js';
import { RateLimitGuard } from './rate-limit.guard.js';

@Module({
  providers: [Limiter, RateLimitGuard],
  exports: [Limiter, RateLimitGuard],
})
export class RateLimitModule {}
