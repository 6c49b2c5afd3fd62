import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The LLM's capacity and cancellation:
 *
 * - `idx_jobs_forwarding` holds only the jobs whose forward is in progress (queued and leased), so counting the jobs
 *   at the LLM for LLM_MAX_IN_FLIGHT reads at most that many entries, whatever the backlog. Every other row stays out
 *   of it; a job enters at its forward claim and leaves when the attempt's outcome releases the lease.
 * - `cancelled_at` records when the web service withdrew a job; `cancel_attempts` counts the notices sent to the
 *   LLM's LLM_CANCEL_PATH. A cancelled job whose notice is still due keeps `next_attempt_at`, so idx_jobs_due finds it.
 */
export class LlmCapacity1797200000000 implements MigrationInterface {
  name = 'LlmCapacity1797200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN cancelled_at bigint NULL');
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN cancel_attempts integer NOT NULL DEFAULT 0');
    await queryRunner.query(
      "CREATE INDEX idx_jobs_forwarding ON jobs (lease_expires_at) WHERE status = 'queued' AND lease_token IS NOT NULL",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX idx_jobs_forwarding');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN cancel_attempts');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN cancelled_at');
  }
}
