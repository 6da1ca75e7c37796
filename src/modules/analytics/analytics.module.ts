import { Module } from '@nestjs/common';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { UsageLogsRepository } from './usage-logs.repository.js';
import { AnalyticsService } from './analytics.service.js';
import { UsageLogsController } from './usage-logs.controller.js';
import { VersionCalls } from './version-calls.js';

/** Usage analytics (from the rollups) and the usage log, read only; who calls a version. */
@Module({
  controllers: [AnalyticsController, UsageLogsController],
  providers: [AnalyticsService, AnalyticsRepository, UsageLogsRepository, VersionCalls],
  exports: [AnalyticsService, VersionCalls],
})
export class AnalyticsModule {}
