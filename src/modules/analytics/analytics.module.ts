import { Module } from '@nestjs/common';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { AnalyticsService } from './analytics.service.js';
import { UsageLogsController } from './usage-logs.controller.js';

/** Usage analytics (from the rollups) and the usage log, read only. */
@Module({
  controllers: [AnalyticsController, UsageLogsController],
  providers: [AnalyticsService, AnalyticsRepository],
  exports: [AnalyticsService],
})
export class AnalyticsModule {}
