import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { StartupError } from '../common/startup-error';
import { type DatabaseTarget, describeDatabase } from '../config/database-url';
import { buildDataSourceOptions } from './data-source-options';
import { isDatabaseUnavailable } from './database-outage';

/** Between two tries to reach a database that does not answer yet. */
const RETRY_PAUSE_MS = 1_000;

/**
 * Before the app is built: waits for a PostgreSQL that does not answer yet (still starting, a network not up), trying
 * every second for up to `timeoutMs` (DATABASE_START_TIMEOUT_SECONDS) and saying once what it waits for; then the
 * start stops with a message naming the database and the variable. Any other error (a wrong password, an unknown
 * database) is left to the start itself, which reports it. SQLite has nothing to wait for.
 */
export async function waitForDatabase(target: DatabaseTarget, timeoutMs: number): Promise<void> {
  if (target.kind !== 'postgres') return;
  const logger = new Logger('Database');
  const description = describeDatabase(target);
  const deadline = Date.now() + timeoutMs;
  let waiting = false;
  for (;;) {
    const options = buildDataSourceOptions(target, []);
    // One connection, with the options' connect timeout kept: a host that drops packets must not outlast the deadline.
    const probe = new DataSource({
      ...options,
      migrationsRun: false,
      extra: { ...(options as { extra?: object }).extra, max: 1 },
    });
    try {
      await probe.initialize();
      await probe.destroy();
      if (waiting) logger.log(`the database answers: ${description}`);
      return;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) return;
      const reason = (error as Error).message || String(error);
      if (Date.now() + RETRY_PAUSE_MS > deadline) {
        throw new StartupError(
          `the database did not answer within ${Math.round(timeoutMs / 1000)} s (${description}: ${reason}); ` +
            'check DATABASE_URL and that the server runs, or give it longer with DATABASE_START_TIMEOUT_SECONDS',
        );
      }
      if (!waiting) {
        logger.warn(
          `waiting for the database (${description}: ${reason}); trying every second for up to ${Math.round(timeoutMs / 1000)} s`,
        );
        waiting = true;
      }
      await sleep(RETRY_PAUSE_MS);
    }
  }
}
