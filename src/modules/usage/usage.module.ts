import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { UsageRecorder } from './usage-recorder.js';

/** The api's side of the usage pipeline: the recorder the onResponse hook feeds. */
@Module({
  imports: [BullModule.registerQueue({ name: 'usage' }), MetricsModule],
  providers: [UsageRecorder],
  exports: [UsageRecorder],
})
export class UsageModule {}
