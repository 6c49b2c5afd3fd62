import type { DataSource } from 'typeorm';
import { nowMsSql } from '../database/db-clock';
import { DirectSql } from '../database/direct-sql';
import type { AttemptLeg } from './attempt.entity';
import type { JobStatus } from './job-status';

const LEG_STATUS: Record<AttemptLeg, JobStatus> = { forward: 'queued', delivery: 'delivering' };
const LEG_COUNTER: Record<AttemptLeg, string> = { forward: 'forward_attempts', delivery: 'delivery_attempts' };

/**
 * The batch claim: one `UPDATE … WHERE id IN (due rows) RETURNING id` per tick and leg, instead of a SELECT and an
 * UPDATE per job. The SQL is built once per leg at start; idx_jobs_due serves the inner SELECT.
 */
export class ClaimStatement {
  private readonly sql: Record<AttemptLeg, string>;
  private readonly direct: DirectSql;

  constructor(dataSource: DataSource) {
    const postgres = dataSource.options.type === 'postgres';
    const now = nowMsSql(dataSource);
    this.sql = { forward: build('forward', now, postgres), delivery: build('delivery', now, postgres) };
    this.direct = new DirectSql(dataSource);
  }

  /** Ids of the jobs now leased to `lease`. */
  async run(leg: AttemptLeg, { lease, limit, leaseMs }: { lease: string; limit: number; leaseMs: number }): Promise<string[]> {
    const status = LEG_STATUS[leg];
    const { records } = await this.direct.execute(this.sql[leg], [lease, leaseMs, status, limit, status]);
    return records.map((row) => row.id as string);
  }
}

function build(leg: AttemptLeg, now: string, postgres: boolean): string {
  const counter = LEG_COUNTER[leg];
  const due =
    `SELECT id FROM jobs WHERE status = ? AND next_attempt_at <= ${now} ` +
    `AND (lease_expires_at IS NULL OR lease_expires_at <= ${now}) ORDER BY next_attempt_at LIMIT ?` +
    (postgres ? ' FOR UPDATE SKIP LOCKED' : '');
  return (
    `UPDATE jobs SET lease_token = ?, lease_expires_at = ${now} + ?, ${counter} = ${counter} + 1, ` +
    // SQLite: `+status` keeps the outer statement on the primary key; without it the planner may walk every row of
    // the status (the whole backlog) through idx_jobs_status_created and test each against the batch's ids.
    `updated_at = ${now} WHERE id IN (${due}) AND ${postgres ? 'status' : '+status'} = ? RETURNING id`
  );
}
