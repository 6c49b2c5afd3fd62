import { Injectable } from '@nestjs/common';
import type { Dialect } from '../database/dialect';
import { type Execute, SqlExecutor } from '../database/sql-executor';
import { ACTIVE_STATUSES, JOB_STATUSES, type JobStatus } from './job-status';

// What the relay reads about its load, shared by the LLM capacity count (claims.repository.ts), the gauges in
// /metrics, intake admission and the console's summary. Every one reads the counter rows of job_counts (one per
// client and status, kept by triggers, see the HistoryScale and Clients migrations) or a small index, so it costs the
// same at any history size.

/** Jobs of a status (all clients), from the counter table the triggers keep: one row per client. */
export function statusCountSql(status: JobStatus): string {
  return `SELECT COALESCE(SUM(job_count), 0) FROM job_counts WHERE status = '${status}'`;
}

/**
 * Jobs whose forward is in progress (queued and under a live lease), read from idx_jobs_forwarding, which holds only
 * those rows: at most LLM_MAX_IN_FLIGHT entries, whatever the backlog. SQLite, planning without statistics, would
 * rather walk every queued job through idx_jobs_status_created, so it is told which index to use (the literals let it
 * see that the query implies the index's predicate); PostgreSQL picks the partial index itself.
 */
export function forwardingCountSql(dialect: Dialect): string {
  const from = dialect.indexedBy('jobs', 'idx_jobs_forwarding');
  return `SELECT COUNT(*) FROM ${from} WHERE status = 'queued' AND lease_token IS NOT NULL AND lease_expires_at > ${dialect.nowMs}`;
}

/**
 * Every client's settings for the fair order, its credit, its queued and processing counts (counter rows) and its
 * forwards in progress (from idx_jobs_forwarding, which holds at most the jobs at the LLM), in creation order. One
 * statement, so one snapshot: a job passing from its forward (queued, leased) to processing between two reads would
 * be counted in neither, and a slot at the LLM taken twice.
 */
export function clientLoadSql(dialect: Dialect): string {
  const count = (status: JobStatus) =>
    `COALESCE((SELECT job_count FROM job_counts WHERE client_id = c.id AND status = '${status}'), 0)`;
  const forwarding =
    `(SELECT COUNT(*) FROM ${dialect.indexedBy('jobs', 'idx_jobs_forwarding')} WHERE status = 'queued' ` +
    `AND lease_token IS NOT NULL AND lease_expires_at > ${dialect.nowMs} AND client_id = c.id)`;
  return (
    `SELECT c.id, c.weight, c.max_in_flight, c.fair_credit, ${count('queued')} AS queued, ` +
    `${count('processing')} AS processing, ${forwarding} AS forwarding FROM clients c ORDER BY c.created_at, c.id`
  );
}

/**
 * The jobs at each LLM server: processing there (idx_jobs_llm_processing) or with a forward to it in progress
 * (idx_jobs_forwarding), both partial indexes holding at most the jobs at the LLM; one statement, one snapshot.
 */
export function serverLoadSql(dialect: Dialect): string {
  const processing = `SELECT llm_server FROM ${dialect.indexedBy('jobs', 'idx_jobs_llm_processing')} WHERE status = 'processing'`;
  const forwarding =
    `SELECT llm_server FROM ${dialect.indexedBy('jobs', 'idx_jobs_forwarding')} WHERE status = 'queued' ` +
    `AND lease_token IS NOT NULL AND lease_expires_at > ${dialect.nowMs}`;
  return `SELECT llm_server, COUNT(*) AS at_server FROM (${processing} UNION ALL ${forwarding}) AS at_llm GROUP BY llm_server`;
}

/** The jobs at each LLM server by name (serverLoadSql run by `execute`: inside a claim's transaction, or alone). */
export async function readServerLoads(execute: Execute, sql: string): Promise<Map<string, number>> {
  const { records } = await execute(sql, []);
  return new Map(
    records.filter((row) => row.llm_server !== null).map((row) => [String(row.llm_server), Number(row.at_server)]),
  );
}

/** One client's jobs waiting for their forward and at the LLM. */
export interface ClientLoad {
  clientId: string;
  waiting: number;
  inFlight: number;
}

export interface LlmLoad {
  /** Queued jobs, those being forwarded included. */
  queued: number;
  /** Queued jobs whose forward is in progress. */
  forwarding: number;
  /** Jobs the LLM accepted and has not called back on. */
  processing: number;
}

@Injectable()
export class JobLoadRepository {
  private readonly loadSql: string;
  private readonly countsSql = 'SELECT status, SUM(job_count) AS count FROM job_counts GROUP BY status';
  /** One client's counter rows (public, like the SQL below, for plan checks). */
  readonly clientCountsSql = 'SELECT status, job_count AS count FROM job_counts WHERE client_id = ?';
  private readonly queuedSql = `SELECT (${statusCountSql('queued')}) AS queued`;
  readonly clientLoadSql: string;
  readonly serverLoadSql: string;
  readonly clientQueuedSql = "SELECT job_count FROM job_counts WHERE client_id = ? AND status = 'queued'";
  private readonly oldestSql: string;
  readonly clientOldestSql: string;

  constructor(private readonly sql: SqlExecutor) {
    const dialect = sql.dialect;
    this.clientLoadSql = clientLoadSql(dialect);
    this.serverLoadSql = serverLoadSql(dialect);
    // The oldest pending job: the first entry of idx_jobs_status_created for each active status.
    const oldest = ACTIVE_STATUSES.map(
      (status) => `SELECT MIN(created_at) AS oldest FROM jobs WHERE status = '${status}'`,
    ).join(' UNION ALL ');
    this.oldestSql = `SELECT ${dialect.nowMs} - MIN(oldest) AS oldest_age_ms FROM (${oldest}) AS pending`;
    // One client's: the first entry of idx_jobs_client_status_created for each active status.
    const clientOldest = ACTIVE_STATUSES.map(
      (status) => `SELECT MIN(created_at) AS oldest FROM jobs WHERE client_id = ? AND status = '${status}'`,
    ).join(' UNION ALL ');
    this.clientOldestSql = `SELECT ${dialect.nowMs} - MIN(oldest) AS oldest_age_ms FROM (${clientOldest}) AS pending`;
    this.loadSql =
      `SELECT (${statusCountSql('queued')}) AS queued, (${forwardingCountSql(dialect)}) AS forwarding, ` +
      `(${statusCountSql('processing')}) AS processing`;
  }

  /** Jobs per status (every status present, 0 when none), of every client or of one. */
  async statusCounts(clientId?: string): Promise<Record<JobStatus, number>> {
    const { records } = await (clientId === undefined
      ? this.sql.execute(this.countsSql, [])
      : this.sql.execute(this.clientCountsSql, [clientId]));
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const record of records) {
      if ((JOB_STATUSES as readonly string[]).includes(record.status))
        counts[record.status as JobStatus] = Number(record.count);
    }
    return counts;
  }

  /** Jobs waiting for their forward (being forwarded included): one counter row. */
  async queued(): Promise<number> {
    const { records } = await this.sql.execute(this.queuedSql, []);
    return Number(records[0]?.queued ?? 0);
  }

  /** Every client's jobs waiting and at the LLM (its cost grows with the clients, not with the jobs). */
  async clientLoads(): Promise<ClientLoad[]> {
    const { records } = await this.sql.execute(this.clientLoadSql, []);
    return records.map((row) => {
      const forwarding = Number(row.forwarding);
      return {
        clientId: String(row.id),
        waiting: Number(row.queued) - forwarding,
        inFlight: Number(row.processing) + forwarding,
      };
    });
  }

  /** The jobs at each LLM server (by name; a job claimed before its server was chosen counts under none). */
  serverLoads(): Promise<Map<string, number>> {
    return readServerLoads((sql, params) => this.sql.execute(sql, params), this.serverLoadSql);
  }

  /** One client's jobs waiting for their forward: one counter row. */
  async clientQueued(clientId: string): Promise<number> {
    const { records } = await this.sql.execute(this.clientQueuedSql, [clientId]);
    return Number(records[0]?.job_count ?? 0);
  }

  /** Milliseconds since the oldest job still in work (of every client, or of one) was created; null when none. */
  async oldestPendingAgeMs(clientId?: string): Promise<number | null> {
    const { records } = await (clientId === undefined
      ? this.sql.execute(this.oldestSql, [])
      : this.sql.execute(
          this.clientOldestSql,
          ACTIVE_STATUSES.map(() => clientId),
        ));
    const age = records[0]?.oldest_age_ms;
    return age === null || age === undefined ? null : Number(age);
  }

  /** What waits for and sits at the LLM: one statement over counter rows and a small index. */
  async llmLoad(): Promise<LlmLoad> {
    const { records } = await this.sql.execute(this.loadSql, []);
    const row = records[0];
    return { queued: Number(row.queued), forwarding: Number(row.forwarding), processing: Number(row.processing) };
  }
}
