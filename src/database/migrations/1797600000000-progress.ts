import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Progress from the LLM server: the latest value, stage and message of a job's progress, when it came, and how many
 * heartbeats came in all (counted, not stored each). A heartbeat moves the callback deadline on (see
 * JobWritesRepository.recordProgress).
 */
export class Progress1797600000000 implements MigrationInterface {
  name = 'Progress1797600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const column of COLUMNS) await queryRunner.query(`ALTER TABLE jobs ADD COLUMN ${column}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of [...COLUMNS].reverse()) {
      await queryRunner.query(`ALTER TABLE jobs DROP COLUMN ${column.split(' ')[0]}`);
    }
  }
}

const COLUMNS = [
  'progress_value double precision NULL',
  'progress_stage varchar(100) NULL',
  'progress_message varchar(500) NULL',
  'progress_updated_at bigint NULL',
  'progress_heartbeats integer NOT NULL DEFAULT 0',
];
