import type { DataSource } from 'typeorm';

/**
 * What differs between SQLite and PostgreSQL in the relay's SQL, in one place: the clock, the feed's change sequence,
 * row locks, index hints and placeholders. Every repository builds its statements from these, once, at start.
 */
export class Dialect {
  readonly postgres: boolean;
  /**
   * "Now" in epoch milliseconds from the database clock, shared by every replica. On PostgreSQL the volatile
   * clock_timestamp() sits in a scalar subquery, evaluated once per statement: compared with it directly, a column
   * could not bound an index scan (a volatile value may change from row to row), and `next_attempt_at <= now` would
   * filter every row of the status instead of stopping at the first one not yet due. SQLite's 'now' is already fixed
   * for the duration of a statement.
   */
  readonly nowMs: string;
  /**
   * The `jobs.change_seq` a status change gets, evaluated inside the writing statement. Readers of the feed walk
   * `(change_seq, id)` upwards from a cursor, so a value must never be handed out below one a reader may already
   * have passed.
   *
   * SQLite (one writer at a time, commit order = write order): one more than the largest value in the table, found
   * by a seek on idx_jobs_change. Never below the database clock in milliseconds either: retention may delete the job
   * holding the largest value (after a quiet spell longer than JOB_RETENTION_DAYS), and the next change must still
   * number past it. A multi-row UPDATE gives all its rows the same value; they commit together, and ties go by id.
   *
   * PostgreSQL: the writing transaction's id. Transactions commit in any order, so readers only take values below
   * {@link visibleChangeBound}.
   */
  readonly changeSeq: string;
  /**
   * PostgreSQL only (null on SQLite): the oldest transaction still running when the reading statement took its
   * snapshot. Every transaction with a smaller id has committed or aborted, so the rows below this bound are final for
   * those ids, and any later change gets an id at or above it. A reader taking only rows below the bound, in
   * `(change_seq, id)` order, therefore never skips one. A long-running transaction holds the bound back (the feed
   * waits; nothing is lost).
   */
  readonly visibleChangeBound: string | null;

  constructor(type: DataSource['options']['type']) {
    this.postgres = type === 'postgres';
    this.nowMs = this.postgres
      ? '(SELECT CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT))'
      : "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
    this.changeSeq = this.postgres
      ? 'pg_current_xact_id()::text::bigint'
      : `(SELECT MAX(COALESCE(MAX(change_seq), 0) + 1, ${this.nowMs}) FROM jobs)`;
    this.visibleChangeBound = this.postgres ? 'pg_snapshot_xmin(pg_current_snapshot())::text::bigint' : null;
  }

  static of(dataSource: DataSource): Dialect {
    return new Dialect(dataSource.options.type);
  }

  /** Appended to a SELECT whose rows another replica may be taking at the same moment; SQLite has one writer. */
  get skipLocked(): string {
    return this.postgres ? ' FOR UPDATE SKIP LOCKED' : '';
  }

  /** Appended to a SELECT whose rows the transaction changes next, so concurrent ones queue; SQLite has one writer. */
  get forUpdate(): string {
    return this.postgres ? ' FOR UPDATE' : '';
  }

  /**
   * A table read through one index. SQLite plans without statistics and may pick a worse index, so it is told;
   * PostgreSQL picks by itself.
   */
  indexedBy(table: string, index: string): string {
    return this.postgres ? table : `${table} INDEXED BY ${index}`;
  }

  /** Statements are written with `?`; PostgreSQL numbers its placeholders `$1…`. */
  placeholders(sql: string): string {
    if (!this.postgres) return sql;
    let index = 0;
    return sql.replace(/\?/g, () => `$${++index}`);
  }
}

/** The database clock's "now" in epoch milliseconds, as SQL (see Dialect.nowMs). */
export function nowMsSql(dataSource: DataSource): string {
  return Dialect.of(dataSource).nowMs;
}
