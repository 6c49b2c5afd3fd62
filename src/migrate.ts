import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { exitOnStartFailure } from './common/startup-error';
import { ConfigError } from './config/config-reader';
import { loadConfig } from './config/config';
import { describeDatabase } from './config/database-url';
import { DatabaseLock } from './database/database-lock';
import { initializeDataSource } from './database/migration-lock';
import { waitForDatabase } from './database/open-data-source';
import { relayDataSourceOptions } from './jobs/relay-data-source';

/**
 * `npm run migration:run`: applies the pending migrations exactly as a starting relay does, under the same lock
 * (PostgreSQL's advisory lock; on SQLite the file lock, so never beside a running relay), then exits. For a step that
 * migrates before the replicas start.
 */
async function migrate(): Promise<void> {
  const config = loadConfig();
  Logger.overrideLogger(['log', 'warn', 'error', 'fatal']);
  const lock = DatabaseLock.acquire(config.database);
  try {
    await waitForDatabase(config.database, config.databaseStartTimeoutMs);
    const dataSource = await initializeDataSource(relayDataSourceOptions(config.database));
    const pending = await dataSource.showMigrations();
    await dataSource.destroy();
    new Logger('Migrations').log(
      `${describeDatabase(config.database)} is up to date${pending ? ' (migrations still pending)' : ''}`,
    );
    if (pending) process.exitCode = 1;
  } finally {
    lock.release();
  }
}

migrate().catch((error: Error) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  exitOnStartFailure('migration failed', error);
});
