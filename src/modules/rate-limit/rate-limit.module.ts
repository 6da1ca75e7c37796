import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QuotaModule } from '../quota/quota.module.js';
import { LimitEventRecorder } from './limit-event-recorder.js';
import { LimiterModule } from './limiter.module.js';
import { OrganizationLimitsStore } from './organization-limits-store.js';
import { PolicyStore } from './policy-store.js';
import { RateLimitSetting } from './rate-limit-setting.entity.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { RateLimitsController } from './rate-limits.controller.js';
import { RateLimitsRepository } from './rate-limits.repository.js';
import { RateLimitsService } from './rate-limits.service.js';
import { RequestLimiter } from './request-limiter.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([RateLimitSetting]),
    BullModule.registerQueue({ name: 'usage' }),
    QuotaModule,
    LimiterModule,
  ],
  controllers: [RateLimitsController],
  providers: [
    PolicyStore,
    OrganizationLimitsStore,
    RateLimitsRepository,
    LimitEventRecorder,
    RequestLimiter,
    RateLimitGuard,
    RateLimitsService,
  ],
  exports: [LimiterModule, RateLimitGuard, PolicyStore, OrganizationLimitsStore, RequestLimiter],
})
export class RateLimitModule {}
