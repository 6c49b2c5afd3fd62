import { Module, OnModuleInit } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { WorkScheduler } from '../scheduler/work.scheduler';
import { CancelNoticeService } from './cancel-notice.service';
import { DeadServerWatch } from './dead-server.watch';
import { ForwardService } from './forward.service';
import { LlmFleet } from './llm-fleet';
import { LlmServerClient } from './llm-server.client';

/**
 * The legs to the LLM servers: forwards (routed, failed over, paced per server) and cancel notices; the fleet's state
 * and the HTTP client.
 */
@Module({
  imports: [JobsModule, SchedulerModule, MetricsModule],
  providers: [ForwardService, CancelNoticeService, LlmServerClient, LlmFleet, DeadServerWatch],
  exports: [CancelNoticeService, LlmFleet],
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
