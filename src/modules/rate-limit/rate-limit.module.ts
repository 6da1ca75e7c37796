import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Limiter } from './limiter.js';
import { PolicyStore } from './policy-store.js';
import { RateLimitSetting } from './rate-limit-setting.entity.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RateLimitsController } from './rate-limits.controller.js';
import { RateLimitsService } from './rate-limits.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([RateLimitSetting])],
  controllers: [RateLimitsController],
  providers: [Limiter, PolicyStore, RateLimitGuard, RateLimitsService],
  exports: [Limiter, RateLimitGuard, PolicyStore],
})
export class RateLimitModule {}
