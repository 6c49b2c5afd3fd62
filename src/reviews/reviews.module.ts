import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { JobsModule } from '../jobs/jobs.module';
import { IntakeAdmissionGuard } from './intake-admission';
import { ReviewsController } from './reviews.controller';
import { ReviewsService } from './reviews.service';
import { WebhookUrlPolicy } from './webhook-url.policy';

@Module({
  imports: [JobsModule, DeliveryModule],
  controllers: [ReviewsController],
  providers: [ReviewsService, WebhookUrlPolicy, IntakeAdmissionGuard],
})
export class ReviewsModule {}
