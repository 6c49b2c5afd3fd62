import { MigrationInterface, QueryRunner } from 'typeorm';

/** `jobs.timeout_retries`: how many times a job whose callback deadline passed was forwarded again. */
export class TimeoutRetries1797700000000 implements MigrationInterface {
  name = 'TimeoutRetries1797700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN timeout_retries integer NOT NULL DEFAULT 0');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN timeout_retries');
  }
}
