import { Module } from '@nestjs/common';
import { HttpMetrics } from './http-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsListener } from './metrics-listener.js';

@Module({
  controllers: [MetricsController],
  providers: [HttpMetrics, MetricsListener],
  exports: [HttpMetrics],
})
export class MetricsModule {}
