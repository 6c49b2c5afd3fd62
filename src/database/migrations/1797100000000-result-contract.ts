import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The result contract (RESULT_SCHEMA): a job keeps how many results the relay refused and why it refused the latest,
 * so that a job whose callback deadline passes without a valid result ends as `invalid_result` with that reason.
 * Plain `ALTER TABLE … ADD/DROP COLUMN`, as in DeliveryRounds1795750000000 (no table rebuild on SQLite).
 */
export class ResultContract1797100000000 implements MigrationInterface {
  name = 'ResultContract1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN result_rejection varchar(1000) NULL');
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN result_rejections integer NOT NULL DEFAULT 0');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN result_rejections');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN result_rejection');
  }
}
