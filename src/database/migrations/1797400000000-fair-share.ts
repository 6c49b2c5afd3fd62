import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A fair share of the LLM for each client, priorities, and limits per client:
 *
 * - `clients` gains its settings (`weight` 1–100, `max_in_flight`, `max_backlog` and `intake_rate_limit`, 0 meaning
 *   no limit of its own) and `fair_credit`, its standing in the weighted round-robin of forwards (smooth weighted
 *   round-robin: see ClaimsRepository), written once per claim batch under the forward lock.
 * - `jobs.priority`: 0 high, 1 normal (every existing job), 2 low.
 * - `idx_jobs_client_due (client_id, priority, next_attempt_at) WHERE status = 'queued'`: the fair claim reads, for
 *   each client and priority, the first due jobs from one contiguous range of it, whatever the backlog. Partial, so
 *   it holds only the waiting jobs: the history's rows and their delivery-phase updates never touch it.
 */
export class FairShare1797400000000 implements MigrationInterface {
  name = 'FairShare1797400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const column of [
      'weight integer NOT NULL DEFAULT 1',
      ...LIMITS.map((name) => `${name} integer NOT NULL DEFAULT 0`),
    ])
      await queryRunner.query(`ALTER TABLE clients ADD COLUMN ${column}`);
    await queryRunner.query('ALTER TABLE clients ADD COLUMN fair_credit bigint NOT NULL DEFAULT 0');
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN priority smallint NOT NULL DEFAULT 1');
    await queryRunner.query(
      "CREATE INDEX idx_jobs_client_due ON jobs (client_id, priority, next_attempt_at) WHERE status = 'queued'",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX idx_jobs_client_due');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN priority');
    for (const name of ['fair_credit', ...LIMITS, 'weight'])
      await queryRunner.query(`ALTER TABLE clients DROP COLUMN ${name}`);
  }
}

const LIMITS = ['max_in_flight', 'max_backlog', 'intake_rate_limit'];
