import { Logger } from '@nestjs/common';
import { DataSource, DataSourceOptions, MigrationExecutor } from 'typeorm';

/**
 * The advisory-lock key every relay takes before migrating: the bytes of "llmrelay" read as a bigint. Fixed for ever:
 * replicas of different versions must agree on it. An operator can take it too (`SELECT pg_advisory_lock(…)`) to
 * keep starting relays from migrating while they work on the schema.
 */
export const MIGRATION_LOCK_KEY = '7812739791676268921';

/**
 * Opens the DataSource; on PostgreSQL then runs the pending migrations under the advisory lock. TypeORM has no
 * migration lock of its own: replicas started together on an empty database would race on CREATE TABLE and on the
 * migrations table. SQLite migrates on initialize (migrationsRun), with one relay per file (database-lock.ts).
 */
export async function initializeDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  if (options.type !== 'postgres') return dataSource;
  try {
    await runMigrationsLocked(dataSource);
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

/**
 * One connection takes the lock, runs every pending migration (in one transaction, TypeORM's default) and unlocks,
 * also when a migration fails. Whoever waited then finds nothing pending. The wait and the migrations are exempt
 * from DATABASE_STATEMENT_TIMEOUT_MS: another replica's migration may take its time, and so may ours.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  const logger = new Logger('Migrations');
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SET statement_timeout = 0');
    const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY]);
    if (!locked) {
      logger.log('another relay is migrating the database: waiting for it');
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    let failure: unknown;
    try {
      const applied = await new MigrationExecutor(dataSource, runner).executePendingMigrations();
      if (applied.length > 0) logger.log(`applied ${applied.map((migration) => migration.name).join(', ')}`);
    } catch (error) {
      failure = error;
    }
    // Unlocked also after a failed migration (whose error is the one reported).
    await runner
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch((error: unknown) => (failure ??= error));
    if (failure) throw failure instanceof Error ? failure : new Error('the migrations failed', { cause: failure });
    await runner.query('RESET statement_timeout');
  } finally {
    // Had the unlock failed, the caller destroys the DataSource: the session ends, and the lock with it.
    await runner.release();
  }
}
