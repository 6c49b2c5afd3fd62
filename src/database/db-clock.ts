import type { DataSource } from 'typeorm';

/** SQL for "now" in epoch milliseconds from the database clock, shared by every replica. */
export function nowMsSql(dataSource: DataSource): string {
  return dataSource.options.type === 'postgres'
    ? 'CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT)'
    : "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
}
