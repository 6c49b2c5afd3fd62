import { Injectable } from '@nestjs/common';
import { JobNotFoundError } from '../common/domain-errors';
import type { Dialect } from '../database/dialect';
import { SqlExecutor } from '../database/sql-executor';
import { Job } from './job.entity';
import type { JobStatus } from './job-status';

export interface JobFilter {
  /** One client's jobs only; undefined: every client's (admin keys). */
  clientId?: string;
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

/** Queue positions are counted up to this many jobs ahead. */
export const QUEUE_POSITION_CAP = 10_000;
/**
 * The client's own waiting jobs ahead of one: those of a higher priority, then those of its priority due before it,
 * each counted along one range of the partial idx_jobs_client_due (which holds only queued jobs) up to the cap.
 */
function queuePositionSql(dialect: Dialect): string {
  const waitingAhead = (comparison: string) =>
    `(SELECT COUNT(*) FROM (SELECT 1 FROM ${dialect.indexedBy('jobs', 'idx_jobs_client_due')} WHERE client_id = ? ` +
    `AND status = 'queued' AND ${comparison} AND lease_token IS NULL LIMIT ?) AS ahead)`;
  return `SELECT ${waitingAhead('priority < ?')} + ${waitingAhead('priority = ? AND next_attempt_at < ?')} AS ahead`;
}

/** The read model of jobs: one job, pages of the list, the catch-up feed, a waiting job's place in the queue. */
@Injectable()
export class JobQueriesRepository {
  /** Public for plan checks. */
  readonly queuePositionSql: string;

  constructor(private readonly sql: SqlExecutor) {
    this.queuePositionSql = queuePositionSql(sql.dialect);
  }

  private get jobs() {
    return this.sql.repository(Job);
  }

  async getJob(id: string): Promise<Job> {
    const job = await this.findJob(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  findJob(id: string): Promise<Job | null> {
    return this.jobs.findOneBy({ id });
  }

  /** The jobs awaiting their callback from one LLM server (idx_jobs_llm_processing: at most the jobs at it). */
  processingAt(llmServer: string): Promise<Job[]> {
    return this.jobs.findBy({ status: 'processing', llmServer });
  }

  findByIdempotencyKey(key: string): Promise<Job | null> {
    return this.jobs.findOneBy({ idempotencyKey: key });
  }

  /**
   * How many of its client's jobs wait to be forwarded before this queued one, plus one; counted up to
   * `QUEUE_POSITION_CAP`, so a huge backlog costs no more than that. Other clients' jobs are not counted: the
   * fair order gives each client its turns whatever the others' backlogs.
   */
  async queuePosition(job: Job): Promise<number> {
    const { clientId, priority, nextAttemptAt } = job;
    const { records } = await this.sql.execute(this.queuePositionSql, [
      ...[clientId, priority, QUEUE_POSITION_CAP],
      ...[clientId, priority, nextAttemptAt, QUEUE_POSITION_CAP],
    ]);
    return Math.min(Number(records[0].ahead), QUEUE_POSITION_CAP) + 1;
  }

  /**
   * A page of jobs, newest first, and whether more follow. Every filter combination walks one index in
   * `(created_at, id)` order after its equality columns (idx_jobs_created, idx_jobs_status_created,
   * idx_jobs_submission, and per client idx_jobs_client_created, idx_jobs_client_status_created), so a page costs its
   * own rows whatever the history's size: no sort, no count.
   */
  async listJobs(filter: JobFilter): Promise<{ items: Job[]; more: boolean }> {
    const rows = await this.pageQuery(filter).getMany();
    return { items: rows.slice(0, filter.limit), more: rows.length > filter.limit };
  }

  /** The page's query: one row more than the page, to know whether another follows. Public for plan checks. */
  pageQuery(filter: JobFilter) {
    const query = this.filtered(filter).orderBy('job.createdAt', 'DESC').addOrderBy('job.id', 'DESC');
    if (filter.after) {
      query.andWhere('(job.createdAt, job.id) < (:afterCreatedAt, :afterId)', {
        afterCreatedAt: filter.after.createdAt,
        afterId: filter.after.id,
      });
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
      // With other filters, the submission's index is the selective one: `|| ''` keeps SQLite (which plans without
      // statistics) from walking every job of the status or client instead.
      if (filter.status !== undefined) query.andWhere("job.status || '' = :status", { status: filter.status });
      if (filter.clientId !== undefined)
        query.andWhere("job.clientId || '' = :clientId", { clientId: filter.clientId });
    } else {
      if (filter.clientId !== undefined) query.andWhere('job.clientId = :clientId', { clientId: filter.clientId });
      if (filter.status !== undefined) query.andWhere('job.status = :status', { status: filter.status });
    }
    if (filter.createdFrom !== undefined)
      query.andWhere('job.createdAt >= :createdFrom', { createdFrom: filter.createdFrom });
    if (filter.createdBefore !== undefined)
      query.andWhere('job.createdAt < :createdBefore', { createdBefore: filter.createdBefore });
    return query;
  }

  /**
   * Up to `limit` jobs whose status changed after `after` (a `(change_seq, id)` position), in commit order: one range
   * walk of idx_jobs_change (idx_jobs_client_change for one client), no sort. On PostgreSQL only changes below the
   * oldest running transaction's id, so none can commit later behind a position already given out (Dialect.changeSeq).
   */
  listChanges(after: { seq: number; id: string }, limit: number, clientId?: string): Promise<Job[]> {
    return this.changesQuery(after, limit, clientId).getMany();
  }

  /** The feed's query. Public for plan checks. */
  changesQuery(after: { seq: number; id: string }, limit: number, clientId?: string) {
    const query = this.jobs.createQueryBuilder('job');
    if (clientId !== undefined) query.where('job.clientId = :clientId', { clientId });
    query
      .andWhere('(job.changeSeq, job.id) > (:afterSeq, :afterId)', { afterSeq: after.seq, afterId: after.id })
      .orderBy('job.changeSeq', 'ASC')
      .addOrderBy('job.id', 'ASC')
      .limit(limit);
    const bound = this.sql.dialect.visibleChangeBound;
    if (bound !== null) query.andWhere(`job.changeSeq < ${bound}`);
    return query;
  }
}
