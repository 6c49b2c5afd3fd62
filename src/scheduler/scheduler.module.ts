import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AttemptLogService } from './attempt-log.service';
import { WorkScheduler } from './work.scheduler';
import { WorkSignal } from './work-signal';

/**
 * Ticks, leases, the work signal and the drain state, and what every leg shares: the attempt log, the retry policy,
 * outbound HTTP. The legs (llm-server/, delivery/) register their runners with the scheduler; intake, callbacks and
 * health only see WorkSignal.
 */
@Module({
  imports: [JobsModule, MetricsModule],
  providers: [WorkScheduler, WorkSignal, AttemptLogService],
  exports: [WorkScheduler, WorkSignal, AttemptLogService],
})
export class SchedulerModule {}
