import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeliveryAttempt } from './attempt.entity';
import { Job } from './job.entity';
import { JobSummaryService } from './job-summary.service';
import { JobTimelineService } from './job-timeline.service';
import { JobsService } from './jobs.service';
import { RetentionSweeper } from './retention.sweeper';

@Module({
  imports: [TypeOrmModule.forFeature([Job, DeliveryAttempt])],
  providers: [JobsService, JobTimelineService, JobSummaryService, RetentionSweeper],
  exports: [JobsService, JobTimelineService, JobSummaryService, RetentionSweeper],
})
export class JobsModule {}
