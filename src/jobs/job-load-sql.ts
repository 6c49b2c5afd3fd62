import { ACTIVE_STATUSES, type JobStatus } from './job-status';

// What the relay reads about its load, shared by the LLM capacity count, the gauges in /metrics and the console's
// summary. Every one reads a counter row or a small index, so it costs the same at any history size.

/** Jobs waiting for their forward (`queued`, all of them), being forwarded, and awaiting their callback: one row. */
export function llmLoadSql(now: string, postgres: boolean): string {
  return (
    `SELECT (${statusCountSql('queued')}) AS queued, (${forwardingCountSql(now, postgres)}) AS forwarding, ` +
    `(${statusCountSql('processing')}) AS processing`
  );
}

/** Jobs of a status, from the counter table the triggers keep. */
export function statusCountSql(status: JobStatus): string {
  return `SELECT COALESCE(SUM(job_count), 0) FROM job_status_counts WHERE status = '${status}'`;
}

/**
 * Jobs whose forward is in progress (queued and under a live lease), read from idx_jobs_forwarding, which holds only
 * those rows: at most LLM_MAX_IN_FLIGHT entries, whatever the backlog. SQLite, planning without statistics, would
 * rather walk every queued job through idx_jobs_status_created, so it is told which index to use (the literals let it
 * see that the query implies the index's predicate); PostgreSQL picks the partial index itself.
 */
export function forwardingCountSql(now: string, postgres: boolean): string {
  const from = postgres ? 'jobs' : 'jobs INDEXED BY idx_jobs_forwarding';
  return `SELECT COUNT(*) FROM ${from} WHERE status = 'queued' AND lease_token IS NOT NULL AND lease_expires_at > ${now}`;
}

/**
 * Milliseconds since the oldest job still in work was created (null when none): the first entry of
 * idx_jobs_status_created for each active status.
 */
export function oldestPendingAgeSql(now: string): string {
  const oldest = ACTIVE_STATUSES.map((status) => `SELECT MIN(created_at) AS oldest FROM jobs WHERE status = '${status}'`).join(' UNION ALL ');
  return `SELECT ${now} - MIN(oldest) FROM (${oldest}) AS pending`;
}
