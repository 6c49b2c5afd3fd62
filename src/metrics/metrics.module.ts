import { Global, Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { EventLoopLoad } from './event-loop-load';
import { JobGauges } from './job-gauges';
import { MetricsController } from './metrics.controller';
import { ReadinessGauge } from './readiness-gauge';
import { RelayMetrics } from './relay-metrics';

@Global()
@Module({
  imports: [DeliveryModule],
  controllers: [MetricsController],
  providers: [RelayMetrics, JobGauges, ReadinessGauge, EventLoopLoad],
  exports: [RelayMetrics, EventLoopLoad],
})
export class MetricsModule {}
