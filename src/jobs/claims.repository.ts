import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import type { Dialect } from '../database/dialect';
import { type Execute, SqlExecutor } from '../database/sql-executor';
import type { AttemptLeg } from './attempt.entity';
import { Job } from './job.entity';
import { type ClientTurns, takeTurns } from './fair-turns';
import { clientLoadSql, readServerLoads, serverLoadSql } from './job-load.repository';
import { type MoveOutcome, pickServer, roomAt, routingCounts, type ServerSlot } from './server-routing';
import { PRIORITIES } from './job-priority';
import type { JobStatus } from './job-status';

const LEG_STATUS: Record<AttemptLeg, JobStatus> = { forward: 'queued', delivery: 'delivering', cancel: 'cancelled' };
const LEG_COUNTER: Record<AttemptLeg, string> = {
  forward: 'forward_attempts',
  delivery: 'delivery_attempts',
  cancel: 'cancel_attempts',
};

/**
 * The advisory-lock key under which replicas on one PostgreSQL count the jobs at the LLM and claim forwards, so two
 * of them cannot both fill the last free slot: the bytes of "llmslots" read as a bigint.
 */
export const FORWARD_CAPACITY_LOCK_KEY = '7812739796088878195';

export interface ClaimRequest {
  lease: string;
  limit: number;
  leaseMs: number;
  /** Forward leg only: keep the jobs at the LLM within this many (0: no limit). */
  maxInFlight: number;
  /**
   * Forward leg only: the LLM servers available now. With more than one, or one with a capacity, each claimed job is
   * given its server here, under the same lock as the counts, so every server's capacity holds across replicas.
   */
  servers?: ServerSlot[];
}

/** How long the answer to "does any client have a cap of its own" is trusted (a change applies within it). */
const CLIENT_CAPS_TTL_MS = 1_000;

/**
 * The batch claim: one `UPDATE … WHERE id IN (due rows) RETURNING id` per tick and leg, instead of a SELECT and an
 * UPDATE per job, then one read of the claimed rows. The SQL is built once per leg at start; idx_jobs_due serves the
 * inner SELECT. On PostgreSQL the due rows are locked with SKIP LOCKED, so replicas claiming at the same moment take
 * different rows instead of waiting on each other.
 */
@Injectable()
export class ClaimsRepository {
  private readonly claimSql: Record<AttemptLeg, string>;
  /**
   * Every client's turn state: settings, credit, its queued and processing counts (from job_counts) and its forwards
   * in progress (from idx_jobs_forwarding, which holds at most the jobs at the LLM).
   */
  readonly clientTurnsSql: string;
  private readonly claimByIdSql: (count: number, routed: boolean) => string;
  /** The jobs at each LLM server (public for plan checks). */
  readonly serverLoadSql: string;
  private clientCaps = { at: 0, any: false };

  constructor(private readonly sql: SqlExecutor) {
    const dialect = sql.dialect;
    this.claimSql = {
      forward: build('forward', dialect),
      delivery: build('delivery', dialect),
      cancel: build('cancel', dialect),
    };
    this.clientTurnsSql = clientLoadSql(dialect);
    const now = dialect.nowMs;
    this.serverLoadSql = serverLoadSql(dialect);
    const slots = (count: number) => Array(count).fill('?').join(', ');
    this.claimByIdSql = (count, routed) =>
      `UPDATE jobs SET lease_token = ?, lease_expires_at = ${now} + ?, forward_attempts = forward_attempts + 1, ` +
      `updated_at = ${now}${routed ? `, llm_server = CASE id ${'WHEN ? THEN ? '.repeat(count)}END` : ''} ` +
      `WHERE id IN (${slots(count)}) AND status = 'queued' ` +
      `AND (lease_token IS NULL OR lease_expires_at <= ${now}) RETURNING id`;
  }

  /** The jobs now leased to `request.lease`, with their leg counter already incremented. */
  async claim(leg: AttemptLeg, request: ClaimRequest): Promise<Job[]> {
    if (leg === 'forward' && request.servers?.length === 0) return [];
    const limited =
      leg === 'forward' &&
      (request.maxInFlight > 0 ||
        routingCounts(request.servers ?? []) ||
        (this.freshClientCap() ?? (await this.anyClientCap())));
    const ids = limited
      ? await this.claimForwardWithin(request)
      : await this.claimIds(leg, request, (sql, params) => this.sql.execute(sql, params));
    if (ids.length === 0) return [];
    const jobs = await this.sql.repository(Job).findBy({ id: In(ids), leaseToken: request.lease });
    // Started in this order: with no limit every due job goes at once, and priority only orders the batch.
    return jobs.sort((a, b) => a.priority - b.priority || (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0));
  }

  /**
   * Forward claims under a limit (LLM_MAX_IN_FLIGHT, or a client's own max_in_flight): each free slot is one turn of
   * the fair order among the clients (fair-turns.ts), and within a client higher priority goes first, oldest first
   * within a level. Per batch: two small reads (the clients' turn state and counts, then each turn-taking client's
   * first due jobs per priority from idx_jobs_client_due), one claim by id, and at most one write of the credits,
   * all costing the same whatever the backlog (they grow with the number of clients). On PostgreSQL they run in one
   * transaction under an advisory lock shared by every replica, so the turns and LLM_MAX_IN_FLIGHT hold across them.
   * SQLite has one relay per file and its ticks never overlap; between the reads and the claim only callbacks,
   * expiries and cancels can run, and they free slots.
   */
  private async claimForwardWithin(request: ClaimRequest): Promise<string[]> {
    const within = async (execute: Execute): Promise<string[]> => {
      const clients = await this.turnState(execute);
      const inFlight = clients.reduce((sum, client) => sum + client.inFlight, 0);
      const servers = request.servers ?? [];
      const routed = routingCounts(servers);
      const atServer = routed ? await this.atServers(execute) : new Map<string, number>();
      const slots = Math.min(
        request.limit,
        request.maxInFlight > 0 ? request.maxInFlight - inFlight : request.limit,
        routed ? roomAt(servers, atServer) : request.limit,
      );
      if (slots <= 0) return [];
      const { due: candidates, previous: previousServer } = await this.dueByClient(execute, clients, slots);
      for (const client of clients) client.due = candidates.get(client.clientId)?.length ?? 0;
      const { taken, credits } = takeTurns(clients, slots);
      const ids = [...taken].flatMap(([clientId, count]) => candidates.get(clientId)!.slice(0, count));
      if (credits.size > 0) {
        const cases = [...credits.keys()].map(() => 'WHEN ? THEN CAST(? AS bigint)').join(' ');
        await execute(
          `UPDATE clients SET fair_credit = CASE id ${cases} END WHERE id IN (${[...credits.keys()].map(() => '?').join(', ')})`,
          [...[...credits].flat(), ...credits.keys()],
        );
      }
      if (ids.length === 0) return [];
      // Each job's server, spreading by jobs-at-it over weight; the slots above never exceed their room.
      const picked = new Map<string, number>();
      // A job forwarded before (its deadline passed) goes to another server when one has room.
      const route = (id: string) => {
        const previous = previousServer.get(id);
        const others = previous ? servers.filter((server) => server.name !== previous) : servers;
        return pickServer(others, atServer, picked) ?? pickServer(servers, atServer, picked)!;
      };
      const routes = routed ? ids.map((id) => [id, route(id)]) : [];
      const { records } = await execute(this.claimByIdSql(ids.length, routed), [
        request.lease,
        request.leaseMs,
        ...routes.flat(),
        ...ids,
      ]);
      return records.map((row) => row.id as string);
    };
    if (!this.sql.dialect.postgres) return within((sql, params) => this.sql.execute(sql, params));
    return this.sql.transaction(async (execute) => {
      await execute('SELECT pg_advisory_xact_lock(?)', [FORWARD_CAPACITY_LOCK_KEY]);
      return within(execute);
    });
  }

  /** The jobs at each LLM server now. */
  private atServers(execute: Execute): Promise<Map<string, number>> {
    return readServerLoads(execute, this.serverLoadSql);
  }

  /**
   * Failover within one attempt: moves a claimed forward to the first of `candidates` (the available servers it has
   * not tried) with room, as a new attempt (forward_attempts + 1) with a fresh lease, under the claims' lock so the
   * capacities hold. The server's name; `full` when every candidate is at its capacity; null when the claim is no
   * longer this lease's.
   */
  async moveForward(
    jobId: string,
    lease: string,
    leaseMs: number,
    candidates: readonly ServerSlot[],
  ): Promise<MoveOutcome> {
    const now = this.sql.dialect.nowMs;
    const within = async (execute: Execute): Promise<MoveOutcome> => {
      const atServer = await this.atServers(execute);
      const chosen = pickServer(candidates, atServer);
      if (chosen === null) return 'full';
      const { records } = await execute(
        `UPDATE jobs SET llm_server = ?, forward_attempts = forward_attempts + 1, lease_expires_at = ${now} + ?, ` +
          `updated_at = ${now} WHERE id = ? AND lease_token = ? AND status = 'queued' RETURNING id`,
        [chosen, leaseMs, jobId, lease],
      );
      return records.length > 0 ? { to: chosen } : null;
    };
    if (!this.sql.dialect.postgres) return within((sql, params) => this.sql.execute(sql, params));
    return this.sql.transaction(async (execute) => {
      await execute('SELECT pg_advisory_xact_lock(?)', [FORWARD_CAPACITY_LOCK_KEY]);
      return within(execute);
    });
  }

  /** Every client's weight, cap, credit and jobs at the LLM; `due` is filled in later. */
  private async turnState(execute: Execute): Promise<(ClientTurns & { waiting: boolean })[]> {
    const { records } = await execute(this.clientTurnsSql, []);
    return records.map((row) => {
      const inForward = Number(row.forwarding);
      return {
        clientId: String(row.id),
        weight: Number(row.weight),
        maxInFlight: Number(row.max_in_flight),
        credit: Number(row.fair_credit),
        inFlight: Number(row.processing) + inForward,
        // Queued jobs beyond those being forwarded: some may be waiting out a backoff, the read below tells.
        waiting: Number(row.queued) > inForward,
        due: 0,
      };
    });
  }

  /**
   * The first due jobs of each client that could take a turn, in forward order (priority, then due time), at most
   * as many as it could take: one statement, one contiguous range of idx_jobs_client_due per client and priority.
   */
  private async dueByClient(
    execute: Execute,
    clients: readonly (ClientTurns & { waiting: boolean })[],
    slots: number,
  ): Promise<{ due: Map<string, string[]>; previous: Map<string, string> }> {
    const rooms = clients
      .filter((client) => client.waiting)
      .map((client) => ({
        clientId: client.clientId,
        room: client.maxInFlight === 0 ? slots : Math.min(slots, client.maxInFlight - client.inFlight),
      }))
      .filter((client) => client.room > 0);
    const { sql, params } = this.dueSql(rooms);
    const due = new Map<string, string[]>();
    /** The server of each due job's previous forward (a job forwarded again after its deadline passed). */
    const previous = new Map<string, string>();
    if (rooms.length === 0) return { due, previous };
    const { records } = await execute(sql, params);
    const ordered = records
      .map((row) => ({
        id: String(row.id),
        clientId: String(row.client_id),
        priority: Number(row.priority),
        at: Number(row.next_attempt_at),
        previous: row.llm_server === null ? null : String(row.llm_server),
      }))
      .sort((a, b) => a.priority - b.priority || a.at - b.at);
    for (const row of ordered) {
      if (row.previous !== null) previous.set(row.id, row.previous);
      const list = due.get(row.clientId) ?? [];
      list.push(row.id);
      due.set(row.clientId, list);
    }
    return { due, previous };
  }

  /** The statement reading the first `room` due jobs of each client, per priority (public for plan checks). */
  dueSql(rooms: readonly { clientId: string; room: number }[]): { sql: string; params: unknown[] } {
    const now = this.sql.dialect.nowMs;
    const jobs = this.sql.dialect.indexedBy('jobs', 'idx_jobs_client_due');
    const arms: string[] = [];
    const params: unknown[] = [];
    for (const { clientId, room } of rooms) {
      for (const [rank] of PRIORITIES.entries()) {
        arms.push(
          `SELECT * FROM (SELECT id, client_id, priority, next_attempt_at, llm_server FROM ${jobs} WHERE client_id = ? ` +
            `AND status = 'queued' AND priority = ${rank} AND next_attempt_at <= ${now} ` +
            `AND (lease_token IS NULL OR lease_expires_at <= ${now}) ORDER BY next_attempt_at LIMIT ?) AS due_${arms.length}`,
        );
        params.push(clientId, room);
      }
    }
    return { sql: arms.join(' UNION ALL '), params };
  }

  /** The cached answer while it is fresh: then the claim goes out without waiting a turn of the event loop. */
  private freshClientCap(): boolean | undefined {
    return Date.now() - this.clientCaps.at < CLIENT_CAPS_TTL_MS ? this.clientCaps.any : undefined;
  }

  /** Whether some client has a max_in_flight of its own (then forwards take turns even without LLM_MAX_IN_FLIGHT). */
  private async anyClientCap(): Promise<boolean> {
    const { records } = await this.sql.execute('SELECT 1 AS found FROM clients WHERE max_in_flight > 0 LIMIT 1', []);
    this.clientCaps = { at: Date.now(), any: records.length > 0 };
    return this.clientCaps.any;
  }

  private async claimIds(
    leg: AttemptLeg,
    { lease, limit, leaseMs }: ClaimRequest,
    execute: Execute,
  ): Promise<string[]> {
    const status = LEG_STATUS[leg];
    const params = this.sql.dialect.postgres
      ? [status, limit, lease, leaseMs, status]
      : [lease, leaseMs, status, limit, status];
    const { records } = await execute(this.claimSql[leg], params);
    return records.map((row) => row.id as string);
  }
}

function build(leg: AttemptLeg, dialect: Dialect): string {
  const now = dialect.nowMs;
  const counter = LEG_COUNTER[leg];
  const due =
    `SELECT id FROM jobs WHERE status = ? AND next_attempt_at <= ${now} ` +
    `AND (lease_expires_at IS NULL OR lease_expires_at <= ${now}) ORDER BY next_attempt_at LIMIT ?`;
  const set = `lease_token = ?, lease_expires_at = ${now} + ?, ${counter} = ${counter} + 1, updated_at = ${now}`;
  if (dialect.postgres) {
    // The due rows in a CTE, which PostgreSQL evaluates exactly once. As `id IN (subquery … FOR UPDATE SKIP LOCKED)`
    // the subquery may run again when a row it returned was changed concurrently (EvalPlanQual), and the UPDATE then
    // takes more rows than the LIMIT: a batch larger than the budget, or more jobs at the LLM than LLM_MAX_IN_FLIGHT.
    return `WITH due AS (${due}${dialect.skipLocked}) UPDATE jobs SET ${set} FROM due WHERE jobs.id = due.id AND jobs.status = ? RETURNING jobs.id`;
  }
  // SQLite: `+status` keeps the outer statement on the primary key; without it the planner may walk every row of
  // the status (the whole backlog) through idx_jobs_status_created and test each against the batch's ids.
  return `UPDATE jobs SET ${set} WHERE id IN (${due}) AND +status = ? RETURNING id`;
}
