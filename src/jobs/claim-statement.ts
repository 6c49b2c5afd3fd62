import type { DataSource } from 'typeorm';
import { nowMsSql } from '../database/db-clock';
import { DirectSql } from '../database/direct-sql';
import type { AttemptLeg } from './attempt.entity';
import type { JobStatus } from './job-status';
import { forwardingCountSql, statusCountSql } from './job-load-sql';

const LEG_STATUS: Record<AttemptLeg, JobStatus> = { forward: 'queued', delivery: 'delivering', cancel: 'cancelled' };
const LEG_COUNTER: Record<AttemptLeg, string> = { forward: 'forward_attempts', delivery: 'delivery_attempts', cancel: 'cancel_attempts' };

/**
 * The advisory-lock key under which replicas on one PostgreSQL count the jobs at the LLM and claim forwards, so two
 * of them cannot both fill the last free slot: the bytes of "llmslots" read as a bigint.
 */
export const FORWARD_CAPACITY_LOCK_KEY = '7812739796088878195';

interface ClaimRequest {
  lease: string;
  limit: number;
  leaseMs: number;
}

/**
 * The batch claim: one `UPDATE … WHERE id IN (due rows) RETURNING id` per tick and leg, instead of a SELECT and an
 * UPDATE per job. The SQL is built once per leg at start; idx_jobs_due serves the inner SELECT.
 */
export class ClaimStatement {
  private readonly sql: Record<AttemptLeg, string>;
  /** Jobs at the LLM: waiting for their callback (processing), or with a forward attempt in progress. */
  readonly inFlightSql: string;
  private readonly direct: DirectSql;
  private readonly postgres: boolean;

  constructor(dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
    const now = nowMsSql(dataSource);
    this.sql = {
      forward: build('forward', now, this.postgres),
      delivery: build('delivery', now, this.postgres),
      cancel: build('cancel', now, this.postgres),
    };
    this.inFlightSql = `SELECT (${statusCountSql('processing')}) + (${forwardingCountSql(now, this.postgres)}) AS in_flight`;
    this.direct = new DirectSql(dataSource);
  }

  /** Ids of the jobs now leased to `lease`. */
  async run(leg: AttemptLeg, request: ClaimRequest): Promise<string[]> {
    return this.claim(leg, request, (sql, params) => this.direct.execute(sql, params));
  }

  /**
   * Forward claims that keep the jobs at the LLM within `maxInFlight`. On PostgreSQL the count and the claim run in
   * one transaction under an advisory lock shared by every replica. SQLite has one relay per file and its ticks never
   * overlap; between the count and the claim only callbacks, expiries and cancels can run, and they free slots.
   */
  async runForwardWithin(maxInFlight: number, request: ClaimRequest): Promise<string[]> {
    const within = async (execute: Execute): Promise<string[]> => {
      const [{ in_flight }] = (await execute(this.inFlightSql, [])).records;
      const limit = Math.min(request.limit, maxInFlight - Number(in_flight));
      return limit > 0 ? this.claim('forward', { ...request, limit }, execute) : [];
    };
    if (!this.postgres) return within((sql, params) => this.direct.execute(sql, params));
    return this.direct.transaction(async (execute) => {
      await execute('SELECT pg_advisory_xact_lock(?)', [FORWARD_CAPACITY_LOCK_KEY]);
      return within(execute);
    });
  }

  private async claim(leg: AttemptLeg, { lease, limit, leaseMs }: ClaimRequest, execute: Execute): Promise<string[]> {
    const status = LEG_STATUS[leg];
    const params = this.postgres ? [status, limit, lease, leaseMs, status] : [lease, leaseMs, status, limit, status];
    const { records } = await execute(this.sql[leg], params);
    return records.map((row) => row.id as string);
  }
}

type Execute = DirectSql['execute'];

function build(leg: AttemptLeg, now: string, postgres: boolean): string {
  const counter = LEG_COUNTER[leg];
  const due =
    `SELECT id FROM jobs WHERE status = ? AND next_attempt_at <= ${now} ` +
    `AND (lease_expires_at IS NULL OR lease_expires_at <= ${now}) ORDER BY next_attempt_at LIMIT ?`;
  const set = `lease_token = ?, lease_expires_at = ${now} + ?, ${counter} = ${counter} + 1, updated_at = ${now}`;
  if (postgres) {
    // The due rows in a CTE, which PostgreSQL evaluates exactly once. As `id IN (subquery … FOR UPDATE SKIP LOCKED)`
    // the subquery may run again when a row it returned was changed concurrently (EvalPlanQual), and the UPDATE then
    // takes more rows than the LIMIT: a batch larger than the budget, or more jobs at the LLM than LLM_MAX_IN_FLIGHT.
    return `WITH due AS (${due} FOR UPDATE SKIP LOCKED) UPDATE jobs SET ${set} FROM due WHERE jobs.id = due.id AND jobs.status = ? RETURNING jobs.id`;
  }
  // SQLite: `+status` keeps the outer statement on the primary key; without it the planner may walk every row of
  // the status (the whole backlog) through idx_jobs_status_created and test each against the batch's ids.
  return `UPDATE jobs SET ${set} WHERE id IN (${due}) AND +status = ? RETURNING id`;
}
