import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import type { Dialect } from '../database/dialect';
import { type Execute, SqlExecutor } from '../database/sql-executor';
import type { AttemptLeg } from './attempt.entity';
import { Job } from './job.entity';
import { inFlightSql } from './job-load.repository';
import type { JobStatus } from './job-status';

const LEG_STATUS: Record<AttemptLeg, JobStatus> = { forward: 'queued', delivery: 'delivering', cancel: 'cancelled' };
const LEG_COUNTER: Record<AttemptLeg, string> = {
  forward: 'forward_attempts',
  delivery: 'delivery_attempts',
  cancel: 'cancel_attempts',
};

/**
 * The advisory-lock key under which replicas on one PostgreSQL count the jobs at the LLM and claim forwards, so two
 * of them cannot both fill the last free slot: the bytes of "llmslots" read as a bigint.
 */
export const FORWARD_CAPACITY_LOCK_KEY = '7812739796088878195';

export interface ClaimRequest {
  lease: string;
  limit: number;
  leaseMs: number;
  /** Forward leg only: keep the jobs at the LLM within this many (0: no limit). */
  maxInFlight: number;
}

/**
 * The batch claim: one `UPDATE … WHERE id IN (due rows) RETURNING id` per tick and leg, instead of a SELECT and an
 * UPDATE per job, then one read of the claimed rows. The SQL is built once per leg at start; idx_jobs_due serves the
 * inner SELECT. On PostgreSQL the due rows are locked with SKIP LOCKED, so replicas claiming at the same moment take
 * different rows instead of waiting on each other.
 */
@Injectable()
export class ClaimsRepository {
  private readonly claimSql: Record<AttemptLeg, string>;
  /** Jobs at the LLM: waiting for their callback (processing), or with a forward attempt in progress. */
  readonly inFlightSql: string;

  constructor(private readonly sql: SqlExecutor) {
    const dialect = sql.dialect;
    this.claimSql = {
      forward: build('forward', dialect),
      delivery: build('delivery', dialect),
      cancel: build('cancel', dialect),
    };
    this.inFlightSql = inFlightSql(dialect);
  }

  /** The jobs now leased to `request.lease`, with their leg counter already incremented. */
  async claim(leg: AttemptLeg, request: ClaimRequest): Promise<Job[]> {
    const ids =
      leg === 'forward' && request.maxInFlight > 0
        ? await this.claimForwardWithin(request)
        : await this.claimIds(leg, request, (sql, params) => this.sql.execute(sql, params));
    if (ids.length === 0) return [];
    return this.sql.repository(Job).findBy({ id: In(ids), leaseToken: request.lease });
  }

  /**
   * Forward claims that keep the jobs at the LLM within `maxInFlight`. On PostgreSQL the count and the claim run in
   * one transaction under an advisory lock shared by every replica. SQLite has one relay per file and its ticks never
   * overlap; between the count and the claim only callbacks, expiries and cancels can run, and they free slots.
   */
  private async claimForwardWithin(request: ClaimRequest): Promise<string[]> {
    const within = async (execute: Execute): Promise<string[]> => {
      const [{ in_flight }] = (await execute(this.inFlightSql, [])).records;
      const limit = Math.min(request.limit, request.maxInFlight - Number(in_flight));
      return limit > 0 ? this.claimIds('forward', { ...request, limit }, execute) : [];
    };
    if (!this.sql.dialect.postgres) return within((sql, params) => this.sql.execute(sql, params));
    return this.sql.transaction(async (execute) => {
      await execute('SELECT pg_advisory_xact_lock(?)', [FORWARD_CAPACITY_LOCK_KEY]);
      return within(execute);
    });
  }

  private async claimIds(
    leg: AttemptLeg,
    { lease, limit, leaseMs }: ClaimRequest,
    execute: Execute,
  ): Promise<string[]> {
    const status = LEG_STATUS[leg];
    const params = this.sql.dialect.postgres
      ? [status, limit, lease, leaseMs, status]
      : [lease, leaseMs, status, limit, status];
    const { records } = await execute(this.claimSql[leg], params);
    return records.map((row) => row.id as string);
  }
}

function build(leg: AttemptLeg, dialect: Dialect): string {
  const now = dialect.nowMs;
  const counter = LEG_COUNTER[leg];
  const due =
    `SELECT id FROM jobs WHERE status = ? AND next_attempt_at <= ${now} ` +
    `AND (lease_expires_at IS NULL OR lease_expires_at <= ${now}) ORDER BY next_attempt_at LIMIT ?`;
  const set = `lease_token = ?, lease_expires_at = ${now} + ?, ${counter} = ${counter} + 1, updated_at = ${now}`;
  if (dialect.postgres) {
    // The due rows in a CTE, which PostgreSQL evaluates exactly once. As `id IN (subquery … FOR UPDATE SKIP LOCKED)`
    // the subquery may run again when a row it returned was changed concurrently (EvalPlanQual), and the UPDATE then
    // takes more rows than the LIMIT: a batch larger than the budget, or more jobs at the LLM than LLM_MAX_IN_FLIGHT.
    return `WITH due AS (${due}${dialect.skipLocked}) UPDATE jobs SET ${set} FROM due WHERE jobs.id = due.id AND jobs.status = ? RETURNING jobs.id`;
  }
  // SQLite: `+status` keeps the outer statement on the primary key; without it the planner may walk every row of
  // the status (the whole backlog) through idx_jobs_status_created and test each against the batch's ids.
  return `UPDATE jobs SET ${set} WHERE id IN (${due}) AND +status = ? RETURNING id`;
}
