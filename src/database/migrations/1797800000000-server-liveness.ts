import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which LLM servers are dead, as every replica sees it:
 *
 * - `llm_server_liveness`: per server, its last successful forward or health probe (`last_success_at`) and since
 *   when it has failed every one tried, on any replica (`failing_since`, null while the last one succeeded).
 * - `jobs.forward_moves`: how many times the job was moved off a dead server; moves are not forward retries.
 */
export class ServerLiveness1797800000000 implements MigrationInterface {
  name = 'ServerLiveness1797800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE llm_server_liveness (name varchar(64) PRIMARY KEY, last_success_at bigint NULL, failing_since bigint NULL)',
    );
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN forward_moves integer NOT NULL DEFAULT 0');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN forward_moves');
    await queryRunner.query('DROP TABLE llm_server_liveness');
  }
}
