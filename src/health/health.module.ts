import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { HealthController } from './health.controller';
import { ReadinessGauge } from './readiness-gauge';

// terminus' own logger reports every failed check at error level; the error filter logs them as warnings instead.
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), DatabaseModule, SchedulerModule, MetricsModule],
  controllers: [HealthController],
  providers: [ReadinessGauge],
})
export class HealthModule {}
