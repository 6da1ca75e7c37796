import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LimiterModule } from '../rate-limit/limiter.module.js';
import { Quota } from './quota.entity.js';
import { QuotaStore } from './quota-store.js';
import { QuotasController } from './quotas.controller.js';
import { QuotasRepository } from './quotas.repository.js';
import { QuotasService } from './quotas.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Quota]), LimiterModule],
  controllers: [QuotasController],
  providers: [QuotasService, QuotasRepository, QuotaStore],
  exports: [QuotasService, QuotaStore],
})
export class QuotaModule {}
