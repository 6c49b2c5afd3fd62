import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { JobsModule } from '../jobs/jobs.module';
import { LlmCallbackController } from './llm-callback.controller';
import { LlmCallbackService } from './llm-callback.service';

@Module({
  imports: [JobsModule, DeliveryModule],
  controllers: [LlmCallbackController],
  providers: [LlmCallbackService],
  exports: [LlmCallbackService],
})
export class LlmCallbackModule {}
