import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeliveryAttempt } from './attempt.entity';
import { Job } from './job.entity';
import { JobTimelineService } from './job-timeline.service';
import { JobsService } from './jobs.service';
import { RetentionSweeper } from './retention.sweeper';

@Module({
  imports: [TypeOrmModule.forFeature([Job, DeliveryAttempt])],
  providers: [JobsService, JobTimelineService, RetentionSweeper],
  exports: [JobsService, JobTimelineService, RetentionSweeper],
})
export class JobsModule {}
