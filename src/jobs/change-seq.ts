import type { DataSource } from 'typeorm';

/**
 * The `jobs.change_seq` a status change gets, as SQL evaluated inside the writing statement. Readers of the feed
 * walk `(change_seq, id)` upwards from a cursor, so a value must never be handed out below one a reader may
 * already have passed.
 *
 * SQLite (one writer at a time, commit order = write order): one more than the largest value in the table, found by
 * a seek on idx_jobs_change. Never below the database clock in milliseconds either: retention may delete the job
 * holding the largest value (after a quiet spell longer than JOB_RETENTION_DAYS), and the next change must still
 * number past it. A multi-row UPDATE gives all its rows the same value; they commit together, and ties go by id.
 *
 * PostgreSQL: the writing transaction's id. Transactions commit in any order, so readers only take values below
 * {@link visibleChangeBoundSql}.
 */
export function changeSeqSql(dataSource: DataSource, nowMs: string): string {
  return dataSource.options.type === 'postgres'
    ? 'pg_current_xact_id()::text::bigint'
    : `(SELECT MAX(COALESCE(MAX(change_seq), 0) + 1, ${nowMs}) FROM jobs)`;
}

/**
 * PostgreSQL only: the oldest transaction still running when the reading statement took its snapshot. Every
 * transaction with a smaller id has committed or aborted, so the rows below this bound are final for those ids, and
 * any later change gets an id at or above it. A reader taking only rows below the bound, in `(change_seq, id)` order,
 * therefore never skips one. A long-running transaction holds the bound back (the feed waits; nothing is lost).
 */
export const VISIBLE_CHANGE_BOUND_SQL = 'pg_snapshot_xmin(pg_current_snapshot())::text::bigint';
