import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { JobsModule } from '../jobs/jobs.module';
import { LlmServerModule } from '../llm-server/llm-server.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { ClientIntakeLimits } from './client-intake-limits';
import { IntakeAdmissionGuard } from './intake-admission.guard';
import { ReviewActionsService } from './review-actions.service';
import { ReviewQueriesService } from './review-queries.service';
import { ReviewSummaryService } from './review-summary.service';
import { ReviewsController } from './reviews.controller';
import { ReviewsService } from './reviews.service';
import { WebhookUrlPolicy } from './webhook-url.policy';

/** The web service's API (/v1/reviews): intake, reads, the feed, cancel and redeliver, and the console's summary. */
@Module({
  imports: [ClientsModule, JobsModule, SchedulerModule, LlmServerModule, MetricsModule],
  controllers: [ReviewsController],
  providers: [
    ReviewsService,
    ReviewQueriesService,
    ReviewActionsService,
    ReviewSummaryService,
    WebhookUrlPolicy,
    IntakeAdmissionGuard,
    ClientIntakeLimits,
  ],
})
export class ReviewsModule {}
