import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { DirectSql } from '../database/direct-sql';
import { JobNotFoundError } from '../common/domain-errors';
import { AttemptLeg, DeliveryAttempt } from './attempt.entity';
import { Job } from './job.entity';
import { JobStatus } from './job-status';

export interface JobFilter {
  status?: JobStatus;
  submissionId?: string;
  limit: number;
  offset: number;
}

export type NewAttempt = Omit<DeliveryAttempt, 'id'>;

/** Reads of jobs and the attempt rows that make up each job's timeline across both legs. */
@Injectable()
export class JobTimelineService {
  private readonly sql: DirectSql;

  constructor(
    @InjectRepository(Job) private readonly jobs: Repository<Job>,
    @InjectRepository(DeliveryAttempt) private readonly attempts: Repository<DeliveryAttempt>,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.sql = new DirectSql(dataSource);
  }

  async getJob(id: string): Promise<Job> {
    const job = await this.jobs.findOneBy({ id });
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  findByIdempotencyKey(key: string): Promise<Job | null> {
    return this.jobs.findOneBy({ idempotencyKey: key });
  }

  async listJobs(filter: JobFilter): Promise<{ items: Job[]; total: number }> {
    const [items, total] = await this.jobs.findAndCount({
      where: {
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.submissionId ? { submissionId: filter.submissionId } : {}),
      },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: filter.limit,
      skip: filter.offset,
    });
    return { items, total };
  }

  async recordAttempt(attempt: NewAttempt): Promise<void> {
    await this.sql.insert(DeliveryAttempt, { ...attempt });
  }

  listAttempts(jobId: string): Promise<DeliveryAttempt[]> {
    return this.attempts.find({ where: { jobId }, order: { id: 'ASC' } });
  }

  lastAttempt(jobId: string, leg: AttemptLeg): Promise<DeliveryAttempt | null> {
    return this.attempts.findOne({ where: { jobId, leg }, order: { id: 'DESC' } });
  }
}
