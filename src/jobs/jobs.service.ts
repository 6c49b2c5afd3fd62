import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { JobNotFoundError } from '../common/domain-errors';
import { type Changes, DbValue } from '../database/sql-executor';
import type { AttemptLeg } from './attempt.entity';
import { ClaimsRepository } from './claims.repository';
import type { MoveOutcome, ServerSlot } from './server-routing';
import { type ClaimedJob, claimOf } from './claimed-job';
import { Job } from './job.entity';
import { failureOutcome, INVALID_RESULT_MESSAGE, type JobOutcome } from './job-outcome';
import { JobQueriesRepository } from './job-queries.repository';
import { assertTransition, CANCELLABLE_STATUSES, canTransition, JobStatus, REDELIVERABLE_STATUSES } from './job-status';
import { JobWritesRepository, type WriteCondition } from './job-writes.repository';

export type NewJob = Pick<
  Job,
  | 'clientId'
  | 'priority'
  | 'submissionId'
  | 'studentId'
  | 'fileRefs'
  | 'metadata'
  | 'webhookUrl'
  | 'idempotencyKey'
  | 'requestHash'
>;

export type { ClaimedJob } from './claimed-job';
export type { JobOutcome } from './job-outcome';

/**
 * The only writer of job state. Each change is asserted against job-status.ts, then written as one conditional
 * UPDATE (JobWritesRepository: `WHERE status IN (…)`, plus the lease for an attempt's outcome), so concurrent
 * callbacks, ticks and replicas cannot apply a transition twice.
 */
@Injectable()
export class JobsService {
  constructor(
    private readonly writes: JobWritesRepository,
    private readonly claims: ClaimsRepository,
    private readonly queries: JobQueriesRepository,
  ) {}

  /** Stores a new job, due for forwarding at once (one INSERT; nothing is read back). */
  async create(fields: NewJob): Promise<Pick<Job, 'id' | 'status'>> {
    const id = `job_${randomBytes(16).toString('hex')}`;
    await this.writes.insert({ ...fields, id, status: 'queued', nextAttemptAt: DbValue.now() });
    return { id, status: 'queued' };
  }

  /**
   * Claims up to `limit` jobs whose leg is due and unleased, in one statement, under one lease token for the batch
   * (writes are fenced by job id and lease together). A forward claim keeps the jobs at the LLM within `maxInFlight`
   * (0: no limit).
   */
  async claimDue(
    leg: AttemptLeg,
    limit: number,
    leaseMs: number,
    maxInFlight = 0,
    servers?: ServerSlot[],
  ): Promise<ClaimedJob[]> {
    const lease = randomUUID();
    const leaseDeadline = Date.now() + leaseMs;
    const jobs = await this.claims.claim(leg, { lease, limit, leaseMs: Math.round(leaseMs), maxInFlight, servers });
    return jobs.map((job) => claimOf(job, lease, leg, leaseDeadline));
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
      const job = await this.queries.findJob(jobId);
      if (!job) throw new JobNotFoundError(jobId);
      if (!CANCELLABLE_STATUSES.includes(job.status)) return { cancelled: false, from: job.status };
      assertTransition(job.status, 'cancelled');
      const noticeDue = notifyLlm(job);
      const changes = {
        status: 'cancelled',
        cancelledAt: DbValue.now(),
        nextAttemptAt: noticeDue ? DbValue.now() : null,
        ...RELEASED,
      };
      // Also conditional on the forward count read: a forward claimed meanwhile makes this read again, and decide
      // again whether the LLM must be told.
      const condition = { id: jobId, statuses: [job.status], forwardAttempts: job.forwardAttempts };
      if (await this.writes.update(condition, changes)) return { cancelled: true, from: job.status };
    }
  }

  /** The LLM has been told of the cancellation, or will not be: no further notice is due. */
  cancelNoticeDone(claim: ClaimedJob): Promise<boolean> {
    return this.fenced(claim, ['cancelled'], { nextAttemptAt: null, ...RELEASED });
  }

  /** Remembers the hash of a freshly issued callback credential before the forward carrying it is sent. */
  async addCallbackToken(claim: ClaimedJob, tokenHash: string, llmServer: string): Promise<boolean> {
    const joined = claim.job.callbackTokenHashes ? `${claim.job.callbackTokenHashes},${tokenHash}` : tokenHash;
    const ok = await this.fenced(claim, ['queued'], { callbackTokenHashes: joined, llmServer });
    if (ok) {
      claim.job.callbackTokenHashes = joined;
      claim.job.llmServer = llmServer;
    }
    return ok;
  }

  /**
   * Failover: the claimed forward moves to the first of `candidates` with room, as a new attempt under a renewed
   * lease. The server's name; `full` when every candidate is at its capacity; null when the claim is no longer this
   * lease's.
   */
  async moveForward(claim: ClaimedJob, candidates: ServerSlot[], leaseMs: number): Promise<MoveOutcome> {
    const moved = await this.claims.moveForward(claim.job.id, claim.lease, Math.round(leaseMs), candidates);
    if (moved === null || moved === 'full') return moved;
    claim.job.llmServer = moved.to;
    claim.job.forwardAttempts += 1;
    claim.attemptNo += 1;
    claim.attemptInRound += 1;
    claim.leaseDeadline = Date.now() + leaseMs;
    return moved;
  }

  /**
   * A dead LLM server's jobs: each one still processing there is queued again for a forward to a live server, once
   * (the write is conditional on its status and server, so replicas noticing the same death move it once), without
   * spending a forward retry. Returns the jobs moved.
   */
  async moveOffServer(llmServer: string): Promise<Job[]> {
    assertTransition('processing', 'queued');
    const moved: Job[] = [];
    for (const job of await this.queries.processingAt(llmServer)) {
      const changes = {
        status: 'queued',
        nextAttemptAt: DbValue.now(),
        callbackDeadlineAt: null,
        forwardMoves: DbValue.property('forwardMoves', 1),
      };
      if (await this.writes.update({ id: job.id, statuses: ['processing'], llmServer }, changes)) moved.push(job);
    }
    return moved;
  }

  /** A processing job's progress: its deadline moves on (JobWritesRepository.recordProgress); false when coalesced. */
  recordProgress(
    jobId: string,
    fields: { value: number | null; stage: string | null; message: string | null },
    heartbeats: number,
    limits: { timeoutMs: number; maxMs: number },
  ): Promise<boolean> {
    return this.writes.recordProgress(jobId, fields, heartbeats, limits.timeoutMs, limits.maxMs);
  }

  /** The LLM accepted the forward: wait for its callback until the deadline. */
  markProcessing(claim: ClaimedJob, callbackTimeoutMs: number): Promise<boolean> {
    assertTransition('queued', 'processing');
    const deadline = DbValue.now(callbackTimeoutMs);
    return this.fenced(claim, ['queued'], {
      status: 'processing',
      forwardedAt: DbValue.now(),
      callbackDeadlineAt: deadline,
      nextAttemptAt: deadline,
      ...RELEASED,
    });
  }

  /** Another attempt of the claimed leg after `delayMs`; the status does not change. */
  scheduleRetry(claim: ClaimedJob, delayMs: number): Promise<boolean> {
    return this.fenced(claim, [claim.job.status], { nextAttemptAt: DbValue.now(delayMs), ...RELEASED });
  }

  /**
   * A result or a failure is known: the job moves to delivering and its first delivery is due at once. Only from a
   * state still waiting for an outcome, so the first outcome wins. A forward attempt in flight loses its lease.
   */
  recordOutcome(jobId: string, outcome: JobOutcome): Promise<boolean> {
    const waiting = WAITING_FOR_OUTCOME.filter((status) => canTransition(status, 'delivering'));
    return this.writes.update({ id: jobId, statuses: waiting }, { ...outcomeChanges(outcome), ...DELIVERY_DUE });
  }

  /**
   * A result that broke RESULT_SCHEMA, while the job still waits for an outcome (the LLM may send a corrected one
   * before the deadline): keeps the reason and counts refusals. Returns the count, or null when the job is not
   * waiting (unknown, or its outcome already recorded).
   */
  recordRejectedResult(jobId: string, description: string): Promise<number | null> {
    return this.writes.recordRejection(jobId, WAITING_FOR_OUTCOME, description);
  }

  /** Forward exhausted or refused: fenced by the forward's lease. */
  failForward(claim: ClaimedJob, outcome: JobOutcome): Promise<boolean> {
    assertTransition('queued', 'delivering');
    return this.fenced(claim, ['queued'], { ...outcomeChanges(outcome), ...DELIVERY_DUE });
  }

  /**
   * Jobs whose callback did not come in time end as failures; returns how many. Jobs whose LLM did call back, but
   * only with results that broke RESULT_SCHEMA, end as invalid_result with the reason the latest one was refused
   * (first, so the second statement finds only the silent ones).
   */
  async expireCallbacks(outcome: JobOutcome, timeoutRetries = 0): Promise<number> {
    if (timeoutRetries > 0) {
      assertTransition('processing', 'queued');
      await this.writes.requeueOverdue(
        {
          status: 'queued',
          nextAttemptAt: DbValue.now(),
          callbackDeadlineAt: null,
          timeoutRetries: DbValue.property('timeoutRetries', 1),
        },
        timeoutRetries,
      );
    }
    assertTransition('processing', 'delivering');
    const invalid = {
      ...outcomeChanges(INVALID_RESULT),
      errorMessage: DbValue.concat(INVALID_RESULT_MESSAGE, 'resultRejection'),
    };
    const rejected = await this.writes.expireOverdue({ ...invalid, ...DELIVERY_DUE }, true);
    return (
      rejected +
      (await this.writes.expireOverdue({ ...outcomeChanges(outcome), ...DELIVERY_DUE }, false, timeoutRetries))
    );
  }

  markDelivered(claim: ClaimedJob): Promise<boolean> {
    assertTransition('delivering', 'delivered');
    return this.fenced(claim, ['delivering'], {
      status: 'delivered',
      deliveredAt: DbValue.now(),
      nextAttemptAt: null,
      ...RELEASED,
    });
  }

  /** The one place a job enters delivery_failed. */
  markDeliveryFailed(claim: ClaimedJob): Promise<boolean> {
    assertTransition('delivering', 'delivery_failed');
    return this.fenced(claim, ['delivering'], { status: 'delivery_failed', nextAttemptAt: null, ...RELEASED });
  }

  /**
   * Operator's redeliver: a finished job gets a new round with a full retry budget. Attempt numbers count on, so the
   * round remembers how many attempts came before it.
   */
  requeueDelivery(jobId: string): Promise<boolean> {
    const finished = [...REDELIVERABLE_STATUSES];
    finished.forEach((status) => assertTransition(status, 'delivering'));
    return this.writes.update(
      { id: jobId, statuses: finished },
      {
        ...DELIVERY_DUE,
        deliveryRounds: DbValue.property('deliveryRounds', 1),
        deliveryRoundBase: DbValue.property('deliveryAttempts'),
      },
    );
  }

  /** Graceful stop: claims whose attempt did not finish go back at once. */
  releaseAll(claims: ClaimedJob[]): Promise<void> {
    return this.writes.releaseLeases(claims.map((claim) => ({ id: claim.job.id, lease: claim.lease })));
  }

  /** A change to a job still in one of `from` and still leased to this claim (the lease not yet expired). */
  private fenced(claim: ClaimedJob, from: JobStatus[], changes: Changes): Promise<boolean> {
    const condition: WriteCondition = { id: claim.job.id, statuses: from, lease: claim.lease };
    return this.writes.update(condition, changes);
  }
}

const WAITING_FOR_OUTCOME: JobStatus[] = ['queued', 'processing'];
/** The hash fingerprints the failure's kind; the message itself is completed by the database per job. */
const INVALID_RESULT = failureOutcome('invalid_result', INVALID_RESULT_MESSAGE);
const RELEASED = { leaseToken: null, leaseExpiresAt: null };
/** Delivery due now, as the first round: the outcome is recorded once (a redeliver sets its own round). */
const DELIVERY_DUE = { status: 'delivering', deliveryRounds: 1, nextAttemptAt: DbValue.now(), ...RELEASED };

function outcomeChanges(outcome: JobOutcome): Changes {
  return {
    status: 'delivering',
    ok: outcome.ok,
    result: outcome.result ?? null,
    errorCode: outcome.error?.code ?? null,
    errorMessage: outcome.error?.message ?? null,
    outcomeHash: outcome.outcomeHash,
    outcomeAt: DbValue.now(),
  };
}
