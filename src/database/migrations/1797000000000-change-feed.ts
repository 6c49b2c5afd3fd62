import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The catch-up feed (`GET /v1/reviews/changes`): `jobs.change_seq` orders status changes by commit, and
 * idx_jobs_change lets a reader walk them from a cursor without a sort.
 *
 * Existing rows are backfilled so a reader starting from the beginning sees each of them once. SQLite: numbered
 * 1…n in `(updated_at, id)` order, the order their last changes were made in (new changes then number on past them).
 * PostgreSQL: the migration's own transaction id, the value a status change written in that transaction would get;
 * `ALTER TABLE` holds an ACCESS EXCLUSIVE lock on `jobs` until the commit, so no change slips in between, and every
 * later writer's transaction id is larger.
 */
export class ChangeFeed1797000000000 implements MigrationInterface {
  name = 'ChangeFeed1797000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query('ALTER TABLE jobs ADD COLUMN change_seq bigint NOT NULL DEFAULT 0');
    await queryRunner.query(
      postgres
        ? 'UPDATE jobs SET change_seq = pg_current_xact_id()::text::bigint'
        : `UPDATE jobs SET change_seq = numbered.seq
             FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY updated_at, id) AS seq FROM jobs) AS numbered
             WHERE numbered.id = jobs.id`,
    );
    await queryRunner.query('CREATE INDEX idx_jobs_change ON jobs (change_seq, id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX idx_jobs_change');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN change_seq');
  }
}
