import type { DataSource } from 'typeorm';

/**
 * SQL for "now" in epoch milliseconds from the database clock, shared by every replica. On PostgreSQL the volatile
 * clock_timestamp() sits in a scalar subquery, evaluated once per statement: compared with it directly, a column
 * could not bound an index scan (a volatile value may change from row to row), and `next_attempt_at <= now` would
 * filter every row of the status instead of stopping at the first one not yet due. SQLite's 'now' is already fixed
 * for the duration of a statement.
 */
export function nowMsSql(dataSource: DataSource): string {
  return dataSource.options.type === 'postgres'
    ? '(SELECT CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT))'
    : "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
}
