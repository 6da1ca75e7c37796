import { Module } from '@nestjs/common';
import { CommonModule } from './common/common.module.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { MetricsModule } from './modules/metrics/metrics.module.js';
import { QueuesModule } from './queues/queues.module.js';
import { RedisModule } from './redis/redis.module.js';

/** The api process: HTTP controllers over the shared feature services. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    QueuesModule,
    CommonModule,
    MetricsModule,
    HealthModule,
  ],
})
export class ApiModule {}
