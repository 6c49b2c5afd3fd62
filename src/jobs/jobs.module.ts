import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { Attempt } from './attempt.entity';
import { AttemptsRepository } from './attempts.repository';
import { ClaimsRepository } from './claims.repository';
import { Job } from './job.entity';
import { JobGauges } from './job-gauges';
import { JobLoadRepository } from './job-load.repository';
import { JobQueriesRepository } from './job-queries.repository';
import { JobWritesRepository } from './job-writes.repository';
import { JobsService } from './jobs.service';
import { ServerLivenessRepository } from './server-liveness.repository';

/** Jobs and their attempts: the state machine's one writer, and the repositories holding their SQL. */
@Module({
  imports: [DatabaseModule, MetricsModule, TypeOrmModule.forFeature([Job, Attempt])],
  providers: [
    JobsService,
    ServerLivenessRepository,
    JobWritesRepository,
    ClaimsRepository,
    JobQueriesRepository,
    AttemptsRepository,
    JobLoadRepository,
    JobGauges,
  ],
  exports: [JobsService, JobQueriesRepository, AttemptsRepository, JobLoadRepository, ServerLivenessRepository],
})
export class JobsModule {}
