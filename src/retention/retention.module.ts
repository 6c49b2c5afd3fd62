import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RetentionRepository } from './retention.repository';
import { RetentionSweeper } from './retention.sweeper';

/** Deletes finished jobs after JOB_RETENTION_DAYS (started by bootstrap.ts once the relay listens). */
@Module({
  imports: [DatabaseModule, MetricsModule],
  providers: [RetentionSweeper, RetentionRepository],
  exports: [RetentionSweeper],
})
export class RetentionModule {}
