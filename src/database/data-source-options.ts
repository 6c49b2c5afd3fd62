import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { StartupError } from '../common/startup-error';
import { TypeOrmLogger } from './typeorm-logger';
import { SAFETY_NET_PAGES } from './wal-checkpointer';
import {
  DEFAULT_DATABASE_POOL_SIZE,
  DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS,
  type DatabaseTarget,
  isSqliteFile,
} from '../config/database-url';
import { InitialSchema1764150000000 } from './migrations/1764150000000-initial-schema';
import { DeliveryRounds1795750000000 } from './migrations/1795750000000-delivery-rounds';
import { HistoryScale1796000000000 } from './migrations/1796000000000-history-scale';
import { ChangeFeed1797000000000 } from './migrations/1797000000000-change-feed';
import { ResultContract1797100000000 } from './migrations/1797100000000-result-contract';
import { LlmCapacity1797200000000 } from './migrations/1797200000000-llm-capacity';
import { Clients1797300000000 } from './migrations/1797300000000-clients';
import { FairShare1797400000000 } from './migrations/1797400000000-fair-share';
import { LlmServers1797500000000 } from './migrations/1797500000000-llm-servers';
import { Progress1797600000000 } from './migrations/1797600000000-progress';
import { TimeoutRetries1797700000000 } from './migrations/1797700000000-timeout-retries';
import { ServerLiveness1797800000000 } from './migrations/1797800000000-server-liveness';

/**
 * How long a query may wait for a connection (opening one, or for a free one in a full pool) before it fails as
 * "database unavailable": a 503 in bounded time rather than a request held without end.
 */
export const DATABASE_CONNECT_TIMEOUT_MS = 5_000;

export const MIGRATIONS = [
  InitialSchema1764150000000,
  DeliveryRounds1795750000000,
  HistoryScale1796000000000,
  ChangeFeed1797000000000,
  ResultContract1797100000000,
  LlmCapacity1797200000000,
  Clients1797300000000,
  FairShare1797400000000,
  LlmServers1797500000000,
  Progress1797600000000,
  TimeoutRetries1797700000000,
  ServerLiveness1797800000000,
];

/**
 * One builder for the app and the typeorm CLI (ormconfig.ts), so both see the same schema and database; the entities
 * come from the jobs module (jobs/relay-data-source.ts).
 */
export function buildDataSourceOptions(
  target: DatabaseTarget,
  entities: DataSourceOptions['entities'],
): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    // PostgreSQL migrates under an advisory lock instead (migration-lock.ts); SQLite on initialize.
    migrationsRun: target.kind === 'sqlite',
    synchronize: false,
    logging: ['error', 'warn'] as ('error' | 'warn')[],
    logger: new TypeOrmLogger(),
  };
  if (target.kind === 'postgres') {
    // The URL goes to node-postgres whole (TypeORM passes it as connectionString), so its sslmode, sslrootcert and
    // other parameters apply as node-postgres reads them; its own values win over `extra`.
    const statementTimeoutMs = target.statementTimeoutMs ?? DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS;
    return {
      ...common,
      type: 'postgres',
      url: target.url,
      applicationName: 'llm-relay',
      extra: {
        max: target.poolSize ?? DEFAULT_DATABASE_POOL_SIZE,
        // Sent when each connection opens; 0 sends nothing, leaving the server's or the role's setting.
        ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
        // An unreachable server fails a request in bounded time (then 503) instead of holding it.
        connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
      },
    };
  }
  if (isSqliteFile(target)) ensureDirectoryOf(target.file);
  return {
    ...common,
    type: 'better-sqlite3',
    database: target.file,
    enableWAL: isSqliteFile(target),
    // better-sqlite3's busy timeout: wait for another writer instead of failing with SQLITE_BUSY.
    timeout: 10_000,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      // Takes effect in a new file only (before the first table): retention hands freed pages back to the file
      // system with `PRAGMA incremental_vacuum`. An older file reuses them for new rows; VACUUM converts it.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      // WalCheckpointer checkpoints from a worker thread; this connection only does past a much larger WAL.
      db.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
    },
  };
}

/**
 * A DATABASE_URL pointing into a missing folder creates it (documented; the resolved path is logged at start). One
 * level at a time, not `mkdirSync(…, { recursive: true })`: that spins for ever where a parent refuses new entries
 * with ENOENT (`/proc/x`), and a folder that cannot be made must stop the start with a message that says so.
 */
export function ensureDirectoryOf(file: string): void {
  const missing: string[] = [];
  for (let dir = path.dirname(file); !fs.existsSync(dir); dir = path.dirname(dir)) {
    missing.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      fs.mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new StartupError(
        `cannot create the folder ${dir} for the SQLite database ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
          'set DATABASE_URL to a file in a folder the relay may write',
      );
    }
  }
}
