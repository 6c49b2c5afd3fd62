import { Module } from '@nestjs/common';
import { EventLoopLoad } from './event-loop-load';
import { MetricsController } from './metrics.controller';
import { RelayMetrics } from './relay-metrics';

/**
 * The relay's Prometheus registry, its counters and GET /metrics. Near the bottom of the layers: the modules that
 * count things import it, and register their own gauges on its registry (jobs, the LLM's pace, readiness).
 */
@Module({
  controllers: [MetricsController],
  providers: [RelayMetrics, EventLoopLoad],
  exports: [RelayMetrics, EventLoopLoad],
})
export class MetricsModule {}
