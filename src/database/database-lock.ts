import Database from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { StartupError } from '../common/startup-error';
import { ensureDirectoryOf } from './data-source-options';
import { type DatabaseTarget, isSqliteFile } from '../config/database-url';

export class DatabaseInUseError extends StartupError {
  constructor(file: string) {
    super(
      `another relay is already using the database ${file} (it holds ${lockFileOf(file)}); ` +
        'run one relay per SQLite file, or several on PostgreSQL',
    );
  }
}

export function lockFileOf(file: string): string {
  return `${file}.lock`;
}

/**
 * One relay per SQLite file. The lock is a companion file held in an exclusive transaction for the life of the
 * process: the kernel drops it when the process dies, even by kill -9, so a restart right after a crash is never
 * refused. The database file itself stays unlocked, so backups and other readers keep working.
 */
export class DatabaseLock {
  /** The locks this process holds, by database file: the DataSource of that file releases its lock once closed. */
  private static readonly held = new Map<string, DatabaseLock>();

  private constructor(
    private readonly holder: Database.Database | null,
    private readonly file: string | null = null,
  ) {}

  /** Throws DatabaseInUseError at once (no busy wait) when another process or app holds the file. */
  static acquire(target: DatabaseTarget): DatabaseLock {
    // PostgreSQL is made for several replicas; an in-memory database belongs to its connection alone.
    if (!isSqliteFile(target)) return new DatabaseLock(null);
    ensureDirectoryOf(target.file);
    const holder = new Database(lockFileOf(target.file), { timeout: 0 });
    try {
      // Journal in memory: a held lock leaves no `-journal` file beside it.
      holder.pragma('journal_mode = MEMORY');
      holder.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      holder.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseInUseError(target.file);
      throw error;
    }
    const lock = new DatabaseLock(holder, target.file);
    DatabaseLock.held.set(target.file, lock);
    return lock;
  }

  /**
   * Released last, once the DataSource on the file has closed (its destroy, the last step of the app's shutdown,
   * after the scheduler's final writes and the WAL checkpointer): a second relay can never open the file while this
   * one still writes to it.
   */
  static releaseAfter(dataSource: DataSource): void {
    const file = dataSource.options.type === 'better-sqlite3' ? dataSource.options.database : null;
    const destroy = dataSource.destroy.bind(dataSource);
    dataSource.destroy = async () => {
      try {
        await destroy();
      } finally {
        if (file !== null) DatabaseLock.held.get(file)?.release();
      }
    };
  }

  release(): void {
    if (this.holder?.open) this.holder.close();
    if (this.file !== null && DatabaseLock.held.get(this.file) === this) DatabaseLock.held.delete(this.file);
  }
}
