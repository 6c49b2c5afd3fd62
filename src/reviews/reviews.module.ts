import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { JobsModule } from '../jobs/jobs.module';
import { IntakeBacklogGuard } from './intake-backlog';
import { ReviewsController } from './reviews.controller';
import { ReviewsService } from './reviews.service';
import { WebhookUrlPolicy } from './webhook-url.policy';

@Module({
  imports: [JobsModule, DeliveryModule],
  controllers: [ReviewsController],
  providers: [ReviewsService, WebhookUrlPolicy, IntakeBacklogGuard],
})
export class ReviewsModule {}
