import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { DirectSql } from '../database/direct-sql';
import { JobNotFoundError } from '../common/domain-errors';
import { AttemptLeg, DeliveryAttempt } from './attempt.entity';
import { VISIBLE_CHANGE_BOUND_SQL } from './change-seq';
import { Job } from './job.entity';
import { JobStatus } from './job-status';

export interface JobFilter {
  status?: JobStatus;
  submissionId?: string;
  /** created_at ≥ this (epoch ms). */
  createdFrom?: number;
  /** created_at < this (epoch ms). */
  createdBefore?: number;
  /** Only jobs after this one in the list's order (older, or as old with a smaller id): keyset paging. */
  after?: { createdAt: number; id: string };
  limit: number;
  offset: number;
}

export type NewAttempt = Omit<DeliveryAttempt, 'id'>;

/** Reads of jobs and the attempt rows that make up each job's timeline across both legs. */
@Injectable()
export class JobTimelineService {
  private readonly sql: DirectSql;
  private readonly postgres: boolean;

  constructor(
    @InjectRepository(Job) private readonly jobs: Repository<Job>,
    @InjectRepository(DeliveryAttempt) private readonly attempts: Repository<DeliveryAttempt>,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.sql = new DirectSql(dataSource);
    this.postgres = dataSource.options.type === 'postgres';
  }

  async getJob(id: string): Promise<Job> {
    const job = await this.jobs.findOneBy({ id });
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  findByIdempotencyKey(key: string): Promise<Job | null> {
    return this.jobs.findOneBy({ idempotencyKey: key });
  }

  /**
   * A page of jobs, newest first, and whether more follow. Every filter combination walks one index in
   * `(created_at, id)` order after its equality column (idx_jobs_created, idx_jobs_status_created,
   * idx_jobs_submission), so a page costs its own rows whatever the history's size: no sort, no count.
   */
  async listJobs(filter: JobFilter): Promise<{ items: Job[]; more: boolean }> {
    const rows = await this.pageQuery(filter).getMany();
    return { items: rows.slice(0, filter.limit), more: rows.length > filter.limit };
  }

  /** The page's query: one row more than the page, to know whether another follows. Public for plan checks. */
  pageQuery(filter: JobFilter) {
    const query = this.filtered(filter).orderBy('job.createdAt', 'DESC').addOrderBy('job.id', 'DESC');
    if (filter.after) {
      query.andWhere('(job.createdAt, job.id) < (:afterCreatedAt, :afterId)', { afterCreatedAt: filter.after.createdAt, afterId: filter.after.id });
    }
    return query.offset(filter.offset).limit(filter.limit + 1);
  }

  /** Jobs matching the filter in all: a count over the index range, so it grows with the matches (asked for only). */
  countJobs(filter: JobFilter): Promise<number> {
    return this.filtered(filter).getCount();
  }

  private filtered(filter: JobFilter) {
    const query = this.jobs.createQueryBuilder('job');
    if (filter.submissionId !== undefined) {
      query.andWhere('job.submissionId = :submissionId', { submissionId: filter.submissionId });
      // With both filters, the submission's index is the selective one: `|| ''` keeps SQLite (which plans without
      // statistics) from walking every job of the status instead.
      if (filter.status !== undefined) query.andWhere("job.status || '' = :status", { status: filter.status });
    } else if (filter.status !== undefined) {
      query.andWhere('job.status = :status', { status: filter.status });
    }
    if (filter.createdFrom !== undefined) query.andWhere('job.createdAt >= :createdFrom', { createdFrom: filter.createdFrom });
    if (filter.createdBefore !== undefined) query.andWhere('job.createdAt < :createdBefore', { createdBefore: filter.createdBefore });
    return query;
  }

  /**
   * Up to `limit` jobs whose status changed after `after` (a `(change_seq, id)` position), in commit order: one range
   * walk of idx_jobs_change, no sort. On PostgreSQL only changes below the oldest running transaction's id, so none
   * can commit later behind a position already given out (change-seq.ts).
   */
  listChanges(after: { seq: number; id: string }, limit: number): Promise<Job[]> {
    return this.changesQuery(after, limit).getMany();
  }

  /** The feed's query. Public for plan checks. */
  changesQuery(after: { seq: number; id: string }, limit: number) {
    const query = this.jobs
      .createQueryBuilder('job')
      .where('(job.changeSeq, job.id) > (:afterSeq, :afterId)', { afterSeq: after.seq, afterId: after.id })
      .orderBy('job.changeSeq', 'ASC')
      .addOrderBy('job.id', 'ASC')
      .limit(limit);
    if (this.postgres) query.andWhere(`job.changeSeq < ${VISIBLE_CHANGE_BOUND_SQL}`);
    return query;
  }

  async recordAttempt(attempt: NewAttempt): Promise<void> {
    await this.sql.insert(DeliveryAttempt, { ...attempt });
  }

  listAttempts(jobId: string): Promise<DeliveryAttempt[]> {
    return this.attempts.find({ where: { jobId }, order: { id: 'ASC' } });
  }

  /** The last attempt of `leg` for each of a page's jobs, in two indexed reads whatever the page's size. */
  async lastAttempts(jobIds: string[], leg: AttemptLeg): Promise<Map<string, DeliveryAttempt>> {
    if (jobIds.length === 0) return new Map();
    const latest = this.attempts
      .createQueryBuilder('a')
      .select('MAX(a.id)')
      .where('a.jobId IN (:...jobIds)', { jobIds })
      .andWhere('a.leg = :leg', { leg })
      .groupBy('a.jobId');
    const rows = await this.attempts
      .createQueryBuilder('attempt')
      .where(`attempt.id IN (${latest.getQuery()})`)
      .setParameters(latest.getParameters())
      .getMany();
    return new Map(rows.map((row) => [row.jobId, row]));
  }

  lastAttempt(jobId: string, leg: AttemptLeg): Promise<DeliveryAttempt | null> {
    return this.attempts.findOne({ where: { jobId, leg }, order: { id: 'DESC' } });
  }
}
