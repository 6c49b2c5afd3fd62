import { Module, OnModuleInit } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { WorkScheduler } from '../scheduler/work.scheduler';
import { CancelNoticeService } from './cancel-notice.service';
import { ForwardService } from './forward.service';
import { LlmPace } from './llm-pace';
import { LlmServerClient } from './llm-server.client';

/** The legs to the LLM server: forwards (paced by the LLM's 429/503) and cancel notices, and its HTTP client. */
@Module({
  imports: [JobsModule, SchedulerModule, MetricsModule],
  providers: [ForwardService, CancelNoticeService, LlmServerClient, LlmPace],
  exports: [CancelNoticeService],
})
export class LlmServerModule implements OnModuleInit {
  constructor(
    private readonly scheduler: WorkScheduler,
    private readonly forward: ForwardService,
    private readonly cancel: CancelNoticeService,
  ) {}

  onModuleInit(): void {
    this.scheduler.register(this.forward);
    if (this.cancel.enabled) this.scheduler.register(this.cancel);
  }
}
