import { Injectable } from '@nestjs/common';
import { SqlExecutor } from '../database/sql-executor';
import type { JobStatus } from '../jobs/job-status';

/** SQLite pages handed back to the file system per step at the end of a sweep (incremental vacuum). */
const VACUUM_PAGES = 64;

/** The deletes of retention and SQLite's incremental vacuum. */
@Injectable()
export class RetentionRepository {
  private readonly deleteSql: string;

  constructor(private readonly sql: SqlExecutor) {
    // ORDER BY status first so that PostgreSQL walks idx_jobs_status_created from `from`, whatever its estimates.
    // Rows another replica's sweep is deleting are skipped (SKIP LOCKED), so two sweepers delete different rows.
    this.deleteSql =
      'DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = ? AND created_at >= ? AND created_at < ? ' +
      `AND updated_at < ? ORDER BY status, created_at LIMIT ?${sql.dialect.skipLocked}) RETURNING id, created_at`;
  }

  get postgres(): boolean {
    return this.sql.dialect.postgres;
  }

  /**
   * Deletes up to `limit` jobs of a finished `status` created from `from` and created and last updated before
   * `cutoff` (their attempts go by cascade), oldest first; returns the deleted rows' creation times.
   */
  async deleteFinished(status: JobStatus, from: number, cutoff: number, limit: number): Promise<number[]> {
    const { records } = await this.sql.execute(this.deleteSql, [status, from, cutoff, cutoff, limit]);
    return records.map((row) => Number(row.created_at));
  }

  /** SQLite's free pages (PRAGMA freelist_count). */
  async freePages(): Promise<number> {
    const { records } = await this.sql.execute('PRAGMA freelist_count', []);
    return Number(records[0]?.freelist_count ?? 0);
  }

  /** Hands up to VACUUM_PAGES free pages of an incremental-vacuum SQLite file back to the file system. */
  vacuumStep(): void {
    this.sql.execSqlite(`PRAGMA incremental_vacuum(${VACUUM_PAGES})`);
  }
}
