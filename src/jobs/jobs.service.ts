import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, In, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { nowMsSql } from '../database/db-clock';
import { DirectSql } from '../database/direct-sql';
import { RelayMetrics } from '../metrics/relay-metrics';
import { AttemptLeg } from './attempt.entity';
import { changeSeqSql } from './change-seq';
import { ClaimStatement } from './claim-statement';
import { type ClaimedJob, claimOf } from './claimed-job';
import { Job, JobError } from './job.entity';
import { JobNotFoundError } from '../common/domain-errors';
import { failureOutcome, INVALID_RESULT_MESSAGE } from './job-outcome';
import { assertTransition, CANCELLABLE_STATUSES, canTransition, JobStatus, REDELIVERABLE_STATUSES } from './job-status';

export interface JobOutcome {
  ok: boolean;
  result: unknown;
  error: JobError | null;
  outcomeHash: string;
}

export type NewJob = Pick<
  Job,
  'submissionId' | 'studentId' | 'fileRefs' | 'metadata' | 'webhookUrl' | 'idempotencyKey' | 'requestHash'
>;

export type { ClaimedJob } from './claimed-job';

type Changes = QueryDeepPartialEntity<Job>;

/**
 * The only writer of job state. Each change is one conditional UPDATE (`WHERE status IN (…)`, plus the lease for
 * an attempt's outcome), so concurrent callbacks, ticks and replicas cannot apply a transition twice.
 */
@Injectable()
export class JobsService {
  private readonly now: string;
  /** The feed's order of status changes; set in the same statement as every status (change-seq.ts). */
  private readonly changeSeq: string;

  private readonly claimStatement: ClaimStatement;
  private readonly sql: DirectSql;

  constructor(
    @InjectRepository(Job) private readonly jobs: Repository<Job>,
    @InjectDataSource() dataSource: DataSource,
    private readonly metrics: RelayMetrics,
  ) {
    this.now = nowMsSql(dataSource);
    this.changeSeq = changeSeqSql(dataSource, this.now);
    this.claimStatement = new ClaimStatement(dataSource);
    this.sql = new DirectSql(dataSource);
  }

  /** Stores a new job, due for forwarding at once (one INSERT; nothing is read back). */
  async create(fields: NewJob): Promise<Pick<Job, 'id' | 'status'>> {
    const id = `job_${randomBytes(16).toString('hex')}`;
    const now = () => this.now;
    const changeSeq = () => this.changeSeq;
    await this.sql.insert(Job, { ...fields, id, status: 'queued', nextAttemptAt: now, createdAt: now, updatedAt: now, changeSeq });
    return { id, status: 'queued' };
  }

  /**
   * Claims up to `limit` jobs whose leg is due and unleased, in one statement, under one lease token for the batch
   * (writes are fenced by job id and lease together). On PostgreSQL the due rows are locked with SKIP LOCKED, so
   * replicas claiming at the same moment take different rows instead of waiting on each other.
   */
  async claimDue(leg: AttemptLeg, limit: number, leaseMs: number, maxInFlight = 0): Promise<ClaimedJob[]> {
    const lease = randomUUID();
    const leaseDeadline = Date.now() + leaseMs;
    const request = { lease, limit, leaseMs: Math.round(leaseMs) };
    const ids =
      leg === 'forward' && maxInFlight > 0
        ? await this.claimStatement.runForwardWithin(maxInFlight, request)
        : await this.claimStatement.run(leg, request);
    if (ids.length === 0) return [];
    const jobs = await this.jobs.findBy({ id: In(ids), leaseToken: lease });
    return jobs.map((job) => claimOf(job, lease, leg, leaseDeadline));
  }

  /**
   * How many jobs wait to be forwarded before this queued one, plus one; counted along idx_jobs_due up to
   * `QUEUE_POSITION_CAP`, so a huge backlog costs no more than that.
   */
  async queuePosition(job: Job): Promise<number> {
    const { records } = await this.sql.execute(QUEUE_POSITION_SQL, [job.nextAttemptAt, QUEUE_POSITION_CAP]);
    return Number(records[0].ahead) + 1;
  }

  /**
   * The web service withdrew the job: from any status before its result is delivered or given up on, it becomes
   * cancelled, leaseless, and (when `notifyLlm` says the LLM may hold it) with a notice to the LLM due at once.
   * Conditional on the status read, so it races safely with callbacks and attempts: a lost race reads again.
   * Returns the status it was cancelled from, or the status that refused it (finished jobs); 'cancelled' again when
   * it already was.
   */
  async cancel(jobId: string, notifyLlm: (job: Job) => boolean): Promise<{ cancelled: boolean; from: JobStatus }> {
    for (;;) {
      const job = await this.jobs.findOneBy({ id: jobId });
      if (!job) throw new JobNotFoundError(jobId);
      if (!CANCELLABLE_STATUSES.includes(job.status)) return { cancelled: false, from: job.status };
      assertTransition(job.status, 'cancelled');
      const noticeDue = notifyLlm(job);
      const changes: Changes = {
        status: 'cancelled',
        cancelledAt: () => this.now,
        nextAttemptAt: noticeDue ? () => this.now : null,
        ...RELEASED,
      };
      // Also conditional on the forward count read: a forward claimed meanwhile makes this read again, and decide
      // again whether the LLM must be told.
      const where = 'id = ? AND status = ? AND forward_attempts = ?';
      const changed = await this.sql.update(Job, this.stamped(changes), where, [jobId, job.status, job.forwardAttempts]);
      if (changed === 1) return { cancelled: true, from: job.status };
    }
  }

  /** The LLM has been told of the cancellation, or will not be: no further notice is due. */
  cancelNoticeDone(claim: ClaimedJob): Promise<boolean> {
    return this.fenced(claim, ['cancelled'], { nextAttemptAt: null, ...RELEASED });
  }

  /** Remembers the hash of a freshly issued callback credential before the forward carrying it is sent. */
  async addCallbackToken(claim: ClaimedJob, tokenHash: string): Promise<boolean> {
    const joined = claim.job.callbackTokenHashes ? `${claim.job.callbackTokenHashes},${tokenHash}` : tokenHash;
    const ok = await this.fenced(claim, ['queued'], { callbackTokenHashes: joined });
    if (ok) claim.job.callbackTokenHashes = joined;
    return ok;
  }

  /** The LLM accepted the forward: wait for its callback until the deadline. */
  markProcessing(claim: ClaimedJob, callbackTimeoutMs: number): Promise<boolean> {
    assertTransition('queued', 'processing');
    const deadline = () => `${this.now} + ${Math.round(callbackTimeoutMs)}`;
    return this.fenced(claim, ['queued'], {
      status: 'processing',
      forwardedAt: () => this.now,
      callbackDeadlineAt: deadline,
      nextAttemptAt: deadline,
      ...RELEASED,
    });
  }

  /** Another attempt of the claimed leg after `delayMs`; the status does not change. */
  scheduleRetry(claim: ClaimedJob, delayMs: number): Promise<boolean> {
    const status = claim.job.status;
    return this.fenced(claim, [status], { nextAttemptAt: () => `${this.now} + ${Math.round(delayMs)}`, ...RELEASED });
  }

  /**
   * A result or a failure is known: the job moves to delivering and its first delivery is due at once. Only from a
   * state still waiting for an outcome, so the first outcome wins. A forward attempt in flight loses its lease.
   */
  async recordOutcome(jobId: string, outcome: JobOutcome): Promise<boolean> {
    const waiting = WAITING_FOR_OUTCOME.filter((status) => canTransition(status, 'delivering'));
    return this.update(jobId, waiting, { ...this.outcomeChanges(outcome), ...deliveryDue(this.now) });
  }

  /**
   * A result that broke RESULT_SCHEMA, while the job still waits for an outcome (the LLM may send a corrected one
   * before the deadline): one conditional UPDATE keeping the reason and counting refusals. Returns the count, or
   * null when the job is not waiting (unknown, or its outcome already recorded).
   */
  async recordRejectedResult(jobId: string, description: string): Promise<number | null> {
    const waiting = WAITING_FOR_OUTCOME.map(() => '?').join(', ');
    const { records } = await this.sql.execute(
      `UPDATE jobs SET result_rejection = ?, result_rejections = result_rejections + 1, updated_at = ${this.now} ` +
        `WHERE id = ? AND status IN (${waiting}) RETURNING result_rejections`,
      [description, jobId, ...WAITING_FOR_OUTCOME],
    );
    return records.length === 1 ? Number(records[0].result_rejections) : null;
  }

  /** Forward exhausted or refused: fenced by the forward's lease. */
  failForward(claim: ClaimedJob, outcome: JobOutcome): Promise<boolean> {
    assertTransition('queued', 'delivering');
    return this.fenced(claim, ['queued'], { ...this.outcomeChanges(outcome), ...deliveryDue(this.now) });
  }

  /**
   * Jobs whose callback did not come in time end as failures; returns how many. While a job is processing its
   * next_attempt_at is the callback deadline, so idx_jobs_due finds the overdue ones without scanning the rest. Jobs
   * whose LLM did call back, but only with results that broke RESULT_SCHEMA, end as invalid_result with the reason
   * the latest one was refused (first, so the second statement finds only the silent ones).
   */
  async expireCallbacks(outcome: JobOutcome): Promise<number> {
    assertTransition('processing', 'delivering');
    const invalid = {
      ...this.outcomeChanges(INVALID_RESULT),
      errorMessage: () => `${sqlString(INVALID_RESULT_MESSAGE)} || result_rejection`,
    };
    const rejected = await this.expireOverdue(invalid, 'result_rejection IS NOT NULL');
    return rejected + (await this.expireOverdue(this.outcomeChanges(outcome)));
  }

  /** Plain SQL: the query builder would rewrite `result` (a property name) inside the message's SQL. */
  private expireOverdue(changes: Changes, condition?: string): Promise<number> {
    const overdue = `status = ? AND next_attempt_at <= ${this.now} AND callback_deadline_at <= ${this.now}`;
    const where = condition ? `${overdue} AND ${condition}` : overdue;
    return this.sql.update(Job, this.stamped({ ...changes, ...deliveryDue(this.now) }), where, ['processing']);
  }

  markDelivered(claim: ClaimedJob): Promise<boolean> {
    assertTransition('delivering', 'delivered');
    return this.fenced(claim, ['delivering'], {
      status: 'delivered',
      deliveredAt: () => this.now,
      nextAttemptAt: null,
      ...RELEASED,
    });
  }

  /** The one place a job enters delivery_failed, so it is also where failed deliveries are counted. */
  async markDeliveryFailed(claim: ClaimedJob): Promise<boolean> {
    assertTransition('delivering', 'delivery_failed');
    const failed = await this.fenced(claim, ['delivering'], { status: 'delivery_failed', nextAttemptAt: null, ...RELEASED });
    if (failed) this.metrics.deliveryFailed();
    return failed;
  }

  /**
   * Operator's redeliver: a finished job gets a new round with a full retry budget. Attempt numbers count on, so the
   * round remembers how many attempts came before it.
   */
  async requeueDelivery(jobId: string): Promise<boolean> {
    const finished = [...REDELIVERABLE_STATUSES];
    finished.forEach((status) => assertTransition(status, 'delivering'));
    return this.update(jobId, finished, {
      ...deliveryDue(this.now),
      deliveryRounds: () => 'delivery_rounds + 1',
      deliveryRoundBase: () => 'delivery_attempts',
    });
  }

  /** Graceful stop: claims whose attempt did not finish go back at once. */
  async releaseAll(claims: ClaimedJob[]): Promise<void> {
    if (claims.length === 0) return;
    await this.jobs
      .createQueryBuilder()
      .update(Job)
      .set(RELEASED)
      .where('id IN (:...ids)', { ids: claims.map((claim) => claim.job.id) })
      .andWhere('lease_token IN (:...leases)', { leases: [...new Set(claims.map((claim) => claim.lease))] })
      .execute();
  }

  private outcomeChanges(outcome: JobOutcome): Changes {
    return {
      status: 'delivering',
      ok: outcome.ok,
      result: (outcome.result ?? null) as Changes['result'],
      errorCode: outcome.error?.code ?? null,
      errorMessage: outcome.error?.message ?? null,
      outcomeHash: outcome.outcomeHash,
      outcomeAt: () => this.now,
    };
  }

  /** A change to a job still in one of `from` and still leased to this claim (the lease not yet expired). */
  private async fenced(claim: ClaimedJob, from: JobStatus[], changes: Changes): Promise<boolean> {
    const where = `id = ? AND status IN (${from.map(() => '?').join(', ')}) AND lease_token = ? AND lease_expires_at > ${this.now}`;
    const changed = await this.sql.update(Job, this.stamped(changes), where, [claim.job.id, ...from, claim.lease]);
    return changed === 1;
  }

  /** A change to a job still in one of `from`. */
  private async update(id: string, from: JobStatus[], changes: Changes): Promise<boolean> {
    const where = `id = ? AND status IN (${from.map(() => '?').join(', ')})`;
    return (await this.sql.update(Job, this.stamped(changes), where, [id, ...from])) === 1;
  }

  /** Every write is stamped with the time; one that sets the status also takes the feed's next change_seq. */
  private stamped(changes: Changes): Changes {
    const stamped: Changes = { ...changes, updatedAt: () => this.now };
    if (changes.status !== undefined) stamped.changeSeq = () => this.changeSeq;
    return stamped;
  }
}

/** Queue positions are counted up to this many jobs ahead. */
export const QUEUE_POSITION_CAP = 10_000;
const QUEUE_POSITION_SQL =
  'SELECT COUNT(*) AS ahead FROM (SELECT 1 FROM jobs ' +
  "WHERE status = 'queued' AND next_attempt_at < ? AND lease_token IS NULL ORDER BY next_attempt_at LIMIT ?) AS waiting";

const WAITING_FOR_OUTCOME: JobStatus[] = ['queued', 'processing'];
/** The hash fingerprints the failure's kind; the message itself is completed in SQL per job. */
const INVALID_RESULT = failureOutcome('invalid_result', INVALID_RESULT_MESSAGE);
const RELEASED: Changes = { leaseToken: null, leaseExpiresAt: null };

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Delivery due now, as the first round: the outcome is recorded once (a redeliver sets its own round). */
function deliveryDue(now: string): Changes {
  return { status: 'delivering', deliveryRounds: 1, nextAttemptAt: () => now, ...RELEASED };
}
