import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { UsagePipelineMetrics } from './usage-pipeline-metrics.js';
import { UsageRecorder } from './usage-recorder.js';

/**
 * The api's side of the usage pipeline: the recorder the onResponse hook feeds, and the
 * pipeline's metrics on this process's /metrics.
 */
@Module({
  imports: [BullModule.registerQueue({ name: 'usage' }), MetricsModule],
  providers: [UsageRecorder, UsagePipelineMetrics],
  exports: [UsageRecorder],
})
export class UsageModule {}
