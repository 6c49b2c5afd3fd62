import type { DataSource } from 'typeorm';
import { nowMsSql } from '../database/db-clock';
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

  constructor(private readonly dataSource: DataSource) {
    const postgres = dataSource.options.type === 'postgres';
    this.sql = { forward: this.build('forward', postgres), delivery: this.build('delivery', postgres) };
  }

  /** Ids of the jobs now leased to `lease`. */
  async run(leg: AttemptLeg, params: { lease: string; limit: number; leaseMs: number }): Promise<string[]> {
    const named = { ...params, status: LEG_STATUS[leg] };
    const [sql, values] = this.dataSource.driver.escapeQueryWithParameters(this.sql[leg], named);
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(sql, values, true);
      return (result.records as { id: string }[]).map((row) => row.id);
    } finally {
      await runner.release();
    }
  }

  private build(leg: AttemptLeg, postgres: boolean): string {
    const now = nowMsSql(this.dataSource);
    const counter = LEG_COUNTER[leg];
    const due =
      `SELECT id FROM jobs WHERE status = :status AND next_attempt_at <= ${now} ` +
      `AND (lease_expires_at IS NULL OR lease_expires_at <= ${now}) ORDER BY next_attempt_at LIMIT :limit` +
      (postgres ? ' FOR UPDATE SKIP LOCKED' : '');
    return (
      `UPDATE jobs SET lease_token = :lease, lease_expires_at = ${now} + :leaseMs, ${counter} = ${counter} + 1, ` +
      `updated_at = ${now} WHERE id IN (${due}) AND status = :status RETURNING id`
    );
  }
}
