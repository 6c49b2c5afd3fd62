import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { LlmCallbackController } from './llm-callback.controller';
import { LlmCallbackService } from './llm-callback.service';
import { ProgressController } from './progress.controller';
import { ProgressService } from './progress.service';
import { ResultContractService } from './result-contract.service';

/**
 * The LLM's callback (/v1/llm/callback/{job_id}): the result recorded once, checked against RESULT_SCHEMA; and its
 * heartbeats (/v1/llm/progress/{job_id}).
 */
@Module({
  imports: [JobsModule, SchedulerModule, MetricsModule],
  controllers: [LlmCallbackController, ProgressController],
  providers: [LlmCallbackService, ResultContractService, ProgressService],
  exports: [LlmCallbackService],
})
export class LlmCallbackModule {}
