import { Global, Module } from '@nestjs/common';
import { JobGauges } from './job-gauges';
import { MetricsController } from './metrics.controller';
import { RelayMetrics } from './relay-metrics';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [RelayMetrics, JobGauges],
  exports: [RelayMetrics],
})
export class MetricsModule {}
