import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { AttemptLog } from './attempt-log';
import { DeliveryService } from './delivery.service';
import { ForwardService } from './forward.service';
import { LlmServerClient } from './llm-server.client';
import { WebhookClient } from './webhook.client';
import { WorkScheduler } from './work.scheduler';

/** Both outbound legs (relay → LLM, relay → web service) and the scheduler that drives them. */
@Module({
  imports: [JobsModule],
  providers: [AttemptLog, ForwardService, DeliveryService, LlmServerClient, WebhookClient, WorkScheduler],
  exports: [WorkScheduler],
})
export class DeliveryModule {}
