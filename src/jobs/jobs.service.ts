import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { nowMsSql } from '../database/db-clock';
import { RelayMetrics } from '../metrics/relay-metrics';
import { AttemptLeg } from './attempt.entity';
import { type ClaimedJob, claimOf } from './claimed-job';
import { Job, JobError } from './job.entity';
import { assertTransition, canTransition, JobStatus } from './job-status';

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

const LEG_STATUS: Record<AttemptLeg, JobStatus> = { forward: 'queued', delivery: 'delivering' };

/**
 * The only writer of job state. Each change is one conditional UPDATE (`WHERE status IN (…)`, plus the lease for
 * an attempt's outcome), so concurrent callbacks, ticks and replicas cannot apply a transition twice.
 */
@Injectable()
export class JobsService {
  private readonly now: string;

  constructor(
    @InjectRepository(Job) private readonly jobs: Repository<Job>,
    @InjectDataSource() dataSource: DataSource,
    private readonly metrics: RelayMetrics,
  ) {
    this.now = nowMsSql(dataSource);
  }

  /** Stores a new job, due for forwarding at once. */
  async create(fields: NewJob): Promise<Job> {
    const id = `job_${randomBytes(16).toString('hex')}`;
    await this.jobs
      .createQueryBuilder()
      .insert()
      .into(Job)
      .values({
        ...fields,
        id,
        status: 'queued',
        nextAttemptAt: () => this.now,
        createdAt: () => this.now,
        updatedAt: () => this.now,
      } as Changes)
      .execute();
    return this.jobs.findOneByOrFail({ id });
  }

  /** Claims up to `limit` jobs whose leg is due and unleased. */
  async claimDue(leg: AttemptLeg, limit: number, leaseMs: number): Promise<ClaimedJob[]> {
    const status = LEG_STATUS[leg];
    const due = await this.jobs
      .createQueryBuilder('j')
      .select('j.id')
      .where('j.status = :status', { status })
      .andWhere(`j.next_attempt_at <= ${this.now}`)
      .andWhere(`(j.lease_expires_at IS NULL OR j.lease_expires_at <= ${this.now})`)
      .orderBy('j.next_attempt_at', 'ASC')
      .limit(limit)
      .getMany();
    const claimed: ClaimedJob[] = [];
    for (const { id } of due) {
      const lease = randomUUID();
      const counter = leg === 'forward' ? 'forward_attempts' : 'delivery_attempts';
      const result = await this.update(id, [status], {
        leaseToken: lease,
        leaseExpiresAt: () => `${this.now} + ${Math.round(leaseMs)}`,
        [leg === 'forward' ? 'forwardAttempts' : 'deliveryAttempts']: () => `${counter} + 1`,
      })
        .andWhere(`next_attempt_at <= ${this.now}`)
        .andWhere(`(lease_expires_at IS NULL OR lease_expires_at <= ${this.now})`)
        .execute();
      if (result.affected !== 1) continue;
      const job = await this.jobs.findOneBy({ id, leaseToken: lease });
      if (job) claimed.push(claimOf(job, lease, leg));
    }
    return claimed;
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
    const result = await this.update(jobId, waiting, { ...this.outcomeChanges(outcome), ...deliveryDue(this.now) }).execute();
    return result.affected === 1;
  }

  /** Forward exhausted or refused: fenced by the forward's lease. */
  failForward(claim: ClaimedJob, outcome: JobOutcome): Promise<boolean> {
    assertTransition('queued', 'delivering');
    return this.fenced(claim, ['queued'], { ...this.outcomeChanges(outcome), ...deliveryDue(this.now) });
  }

  /** Jobs whose callback did not come in time end as failures; returns how many. */
  async expireCallbacks(outcome: JobOutcome): Promise<number> {
    assertTransition('processing', 'delivering');
    const result = await this.jobs
      .createQueryBuilder()
      .update(Job)
      .set({ ...this.outcomeChanges(outcome), ...deliveryDue(this.now), updatedAt: () => this.now })
      .where('status = :status', { status: 'processing' })
      .andWhere(`callback_deadline_at <= ${this.now}`)
      .execute();
    return result.affected ?? 0;
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
    const finished: JobStatus[] = ['delivered', 'delivery_failed'];
    finished.forEach((status) => assertTransition(status, 'delivering'));
    const result = await this.update(jobId, finished, {
      ...deliveryDue(this.now),
      deliveryRounds: () => 'delivery_rounds + 1',
      deliveryRoundBase: () => 'delivery_attempts',
    }).execute();
    return result.affected === 1;
  }

  /** Graceful stop: due work that was claimed but not started goes back at once. */
  async releaseAll(leases: string[]): Promise<void> {
    if (leases.length === 0) return;
    await this.jobs
      .createQueryBuilder()
      .update(Job)
      .set(RELEASED)
      .where('lease_token IN (:...leases)', { leases })
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

  private async fenced(claim: ClaimedJob, from: JobStatus[], changes: Changes): Promise<boolean> {
    const result = await this.update(claim.job.id, from, changes)
      .andWhere('lease_token = :lease', { lease: claim.lease })
      .andWhere(`lease_expires_at > ${this.now}`)
      .execute();
    return result.affected === 1;
  }

  private update(id: string, from: JobStatus[], changes: Changes) {
    return this.jobs
      .createQueryBuilder()
      .update(Job)
      .set({ ...changes, updatedAt: () => this.now })
      .where('id = :id', { id })
      .andWhere('status IN (:...from)', { from });
  }
}

const WAITING_FOR_OUTCOME: JobStatus[] = ['queued', 'processing'];
const RELEASED: Changes = { leaseToken: null, leaseExpiresAt: null };

/** Delivery due now, as the first round: the outcome is recorded once (a redeliver sets its own round). */
function deliveryDue(now: string): Changes {
  return { status: 'delivering', deliveryRounds: 1, nextAttemptAt: () => now, ...RELEASED };
}
