import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { AttemptLog } from './attempt-log';
import { CancelNoticeService } from './cancel-notice.service';
import { DeliveryService } from './delivery.service';
import { ForwardService } from './forward.service';
import { LlmPace } from './llm-pace';
import { LlmServerClient } from './llm-server.client';
import { WebhookClient } from './webhook.client';
import { WorkScheduler } from './work.scheduler';

/**
 * The outbound legs (relay → LLM, relay → web service, and cancellation notices to the LLM) and the scheduler that
 * drives them.
 */
@Module({
  imports: [JobsModule],
  providers: [
    AttemptLog,
    ForwardService,
    DeliveryService,
    CancelNoticeService,
    LlmPace,
    LlmServerClient,
    WebhookClient,
    WorkScheduler,
  ],
  exports: [WorkScheduler],
})
export class DeliveryModule {}
