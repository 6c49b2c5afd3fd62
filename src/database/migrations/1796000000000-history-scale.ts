import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A large history stays cheap to read:
 *
 * - listing pages walk an index in `(created_at, id)` order, alone or after an equality on `status` or
 *   `submission_id` (keyset paging, no sort, no scan);
 * - `job_status_counts` holds the number of jobs per status, kept by triggers in the same transaction as every
 *   insert, status change and delete of `jobs`, so `/metrics` reads five rows instead of counting the table.
 *   SQLite: row triggers (one writer at a time). PostgreSQL: statement triggers over transition tables, which add up
 *   a batch's changes first and then touch each status row once, in status order, so concurrent replicas take the
 *   counter rows' locks in the same order and cannot deadlock on them.
 *
 * On PostgreSQL the migration runs in one transaction and its DROP INDEX takes an ACCESS EXCLUSIVE lock on `jobs`
 * until it commits: reads and writes of jobs (of relays still running the previous version) wait for the three index
 * builds and the count. That also means no status change slips between the count and the triggers. On a large table
 * the wait can pass DATABASE_STATEMENT_TIMEOUT_MS for those relays (503 meanwhile); migrate at a quiet time.
 */
export class HistoryScale1796000000000 implements MigrationInterface {
  name = 'HistoryScale1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query('DROP INDEX idx_jobs_submission');
    await queryRunner.query('CREATE INDEX idx_jobs_submission ON jobs (submission_id, created_at, id)');
    await queryRunner.query('CREATE INDEX idx_jobs_created ON jobs (created_at, id)');
    await queryRunner.query('CREATE INDEX idx_jobs_status_created ON jobs (status, created_at, id)');
    await queryRunner.query(
      'CREATE TABLE job_status_counts (status varchar(20) PRIMARY KEY, job_count bigint NOT NULL)',
    );
    if (postgres) await queryRunner.query('LOCK TABLE jobs IN SHARE MODE');
    await queryRunner.query(
      'INSERT INTO job_status_counts (status, job_count) SELECT status, COUNT(*) FROM jobs GROUP BY status',
    );
    for (const statement of postgres ? POSTGRES_TRIGGERS : SQLITE_TRIGGERS) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    for (const name of ['trg_job_counts_insert', 'trg_job_counts_update', 'trg_job_counts_delete']) {
      await queryRunner.query(postgres ? `DROP TRIGGER ${name} ON jobs` : `DROP TRIGGER ${name}`);
    }
    if (postgres) {
      for (const operation of Object.keys(POSTGRES_CHANGES))
        await queryRunner.query(`DROP FUNCTION relay_job_counts_${operation}()`);
    }
    await queryRunner.query('DROP TABLE job_status_counts');
    await queryRunner.query('DROP INDEX idx_jobs_status_created');
    await queryRunner.query('DROP INDEX idx_jobs_created');
    await queryRunner.query('DROP INDEX idx_jobs_submission');
    await queryRunner.query('CREATE INDEX idx_jobs_submission ON jobs (submission_id)');
  }
}

const SQLITE_ADD = (status: string) =>
  `INSERT INTO job_status_counts (status, job_count) VALUES (${status}, 1)
     ON CONFLICT (status) DO UPDATE SET job_count = job_status_counts.job_count + 1;`;
const SQLITE_REMOVE = (status: string) =>
  `UPDATE job_status_counts SET job_count = job_count - 1 WHERE status = ${status};`;

const SQLITE_TRIGGERS = [
  `CREATE TRIGGER trg_job_counts_insert AFTER INSERT ON jobs BEGIN ${SQLITE_ADD('NEW.status')} END`,
  `CREATE TRIGGER trg_job_counts_update AFTER UPDATE OF status ON jobs WHEN OLD.status <> NEW.status
     BEGIN ${SQLITE_REMOVE('OLD.status')} ${SQLITE_ADD('NEW.status')} END`,
  `CREATE TRIGGER trg_job_counts_delete AFTER DELETE ON jobs BEGIN ${SQLITE_REMOVE('OLD.status')} END`,
];

/** One trigger function per operation: a statement may only name the transition tables its trigger has. */
const POSTGRES_CHANGES = {
  insert: 'SELECT status, 1 AS delta FROM new_rows',
  update: 'SELECT status, 1 AS delta FROM new_rows UNION ALL SELECT status, -1 AS delta FROM old_rows',
  delete: 'SELECT status, -1 AS delta FROM old_rows',
};
const POSTGRES_FUNCTION = (operation: keyof typeof POSTGRES_CHANGES) =>
  `CREATE FUNCTION relay_job_counts_${operation}() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     change record;
   BEGIN
     FOR change IN
       SELECT status, SUM(delta) AS delta FROM (${POSTGRES_CHANGES[operation]}) AS changes
       GROUP BY status HAVING SUM(delta) <> 0 ORDER BY status
     LOOP
       INSERT INTO job_status_counts (status, job_count) VALUES (change.status, change.delta)
         ON CONFLICT (status) DO UPDATE SET job_count = job_status_counts.job_count + EXCLUDED.job_count;
     END LOOP;
     RETURN NULL;
   END $$`;

const POSTGRES_TRIGGERS = [
  POSTGRES_FUNCTION('insert'),
  POSTGRES_FUNCTION('update'),
  POSTGRES_FUNCTION('delete'),
  `CREATE TRIGGER trg_job_counts_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows
     FOR EACH STATEMENT EXECUTE FUNCTION relay_job_counts_insert()`,
  `CREATE TRIGGER trg_job_counts_update AFTER UPDATE ON jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
     FOR EACH STATEMENT EXECUTE FUNCTION relay_job_counts_update()`,
  `CREATE TRIGGER trg_job_counts_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows
     FOR EACH STATEMENT EXECUTE FUNCTION relay_job_counts_delete()`,
];
