import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several LLM servers:
 *
 * - `jobs.llm_server`: the server of the job's latest forward (chosen when the forward is claimed, kept after the job
 *   finishes), and `delivery_attempts.llm_server`: the server of each forward and cancel attempt.
 * - `idx_jobs_llm_processing (llm_server) WHERE status = 'processing'`: with idx_jobs_forwarding, the jobs at each
 *   server are counted from two small partial indexes (at most the jobs at the LLM), so a server's capacity holds
 *   across replicas at any history size.
 */
export class LlmServers1797500000000 implements MigrationInterface {
  name = 'LlmServers1797500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN llm_server varchar(64) NULL');
    await queryRunner.query('ALTER TABLE delivery_attempts ADD COLUMN llm_server varchar(64) NULL');
    await queryRunner.query("CREATE INDEX idx_jobs_llm_processing ON jobs (llm_server) WHERE status = 'processing'");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX idx_jobs_llm_processing');
    await queryRunner.query('ALTER TABLE delivery_attempts DROP COLUMN llm_server');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN llm_server');
  }
}
