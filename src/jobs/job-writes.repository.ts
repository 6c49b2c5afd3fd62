import { Injectable } from '@nestjs/common';
import { type Changes, DbValue, SqlExecutor } from '../database/sql-executor';
import { Job } from './job.entity';
import type { JobStatus } from './job-status';

/** Which row a write may change: the job, still in one of `statuses`, and (for an attempt's outcome) still leased. */
export interface WriteCondition {
  id: string;
  statuses: readonly JobStatus[];
  /** The attempt's lease: the write lands only while the job is leased to it and the lease has not run out. */
  lease?: string;
  /** The forward count read before the write: a forward claimed meanwhile makes the write miss. */
  forwardAttempts?: number;
  /** The server of its latest forward: a job forwarded elsewhere meanwhile makes the write miss. */
  llmServer?: string;
}

/**
 * Every write of a job row, each one statement: the insert, and conditional UPDATEs whose zero affected rows mean
 * someone else moved the job first. Every write is stamped with the database time; one that sets the status also
 * takes the feed's next change_seq in the same statement (Dialect.changeSeq).
 */
@Injectable()
export class JobWritesRepository {
  private readonly changeSeq = DbValue.changeSeq();

  constructor(private readonly sql: SqlExecutor) {}

  /** One INSERT; nothing is read back. */
  async insert(fields: Changes): Promise<void> {
    const now = DbValue.now();
    await this.sql.insert(Job, { ...fields, createdAt: now, updatedAt: now, changeSeq: this.changeSeq });
  }

  /** Returns whether the row changed. */
  async update(condition: WriteCondition, changes: Changes): Promise<boolean> {
    const { where, params } = this.where(condition);
    return (await this.sql.update(Job, this.stamped(changes), where, params)) === 1;
  }

  /**
   * Every job still `processing` whose callback deadline has passed: with `onlyRejected`, those whose LLM only sent
   * results that broke RESULT_SCHEMA; without, those whose LLM sent none. Each statement reads the clock anew, so a
   * deadline passing between the two must not let the second take a refused job for a silent one. Returns how many
   * changed. While a job is processing its next_attempt_at is the callback deadline, so idx_jobs_due finds the
   * overdue ones without scanning the rest.
   */
  expireOverdue(changes: Changes, onlyRejected: boolean, timeoutRetries = 0): Promise<number> {
    const now = this.sql.dialect.nowMs;
    const overdue = `status = ? AND next_attempt_at <= ${now} AND callback_deadline_at <= ${now}`;
    // A silent job with timeout retries left is forwarded again (requeueOverdue), never given up on here, even when
    // its deadline passes between that statement and this one.
    const spent = onlyRejected ? '' : ' AND timeout_retries >= ?';
    return this.sql.update(
      Job,
      this.stamped(changes),
      `${overdue} AND result_rejection IS ${onlyRejected ? 'NOT NULL' : 'NULL'}${spent}`,
      onlyRejected ? ['processing'] : ['processing', timeoutRetries],
    );
  }

  /**
   * A progress report of a processing job: its fields (those given), one more heartbeat (plus `coalesced` ones this
   * replica held back), and the callback deadline moved to at least now + `timeoutMs`, never past `maxMs` after the
   * forward. At most one write per job per second: within a second of the last, nothing matches and false is
   * returned. The job's status, updated_at and change number stay as they are: progress is not a change of state.
   */
  async recordProgress(
    id: string,
    fields: { value: number | null; stage: string | null; message: string | null },
    heartbeats: number,
    timeoutMs: number,
    maxMs: number,
  ): Promise<boolean> {
    const now = this.sql.dialect.nowMs;
    const target = `CASE WHEN ${now} + ? < forwarded_at + ? THEN ${now} + ? ELSE forwarded_at + ? END`;
    const deadline = `CASE WHEN callback_deadline_at >= (${target}) THEN callback_deadline_at ELSE (${target}) END`;
    const targetParams = [timeoutMs, maxMs, timeoutMs, maxMs];
    const { records } = await this.sql.execute(
      `UPDATE jobs SET progress_value = COALESCE(?, progress_value), progress_stage = COALESCE(?, progress_stage), ` +
        `progress_message = COALESCE(?, progress_message), progress_updated_at = ${now}, ` +
        `progress_heartbeats = progress_heartbeats + ?, callback_deadline_at = ${deadline}, next_attempt_at = ${deadline} ` +
        `WHERE id = ? AND status = 'processing' AND (progress_updated_at IS NULL OR progress_updated_at <= ${now} - 1000) ` +
        'RETURNING id',
      [
        fields.value,
        fields.stage,
        fields.message,
        heartbeats,
        ...targetParams,
        ...targetParams,
        ...targetParams,
        ...targetParams,
        id,
      ],
    );
    return records.length > 0;
  }

  /**
   * Jobs whose callback deadline passed with retries left (and no refused result waiting): queued again for a new
   * forward at once, their deadline cleared; every credential issued to them stays valid.
   */
  requeueOverdue(changes: Changes, maxRetries: number): Promise<number> {
    const now = this.sql.dialect.nowMs;
    return this.sql.update(
      Job,
      this.stamped(changes),
      `status = ? AND next_attempt_at <= ${now} AND callback_deadline_at <= ${now} AND result_rejection IS NULL ` +
        'AND timeout_retries < ?',
      ['processing', maxRetries],
    );
  }

  /** Keeps the latest refused result's reason and counts refusals; returns the count, or null when nothing matched. */
  async recordRejection(id: string, statuses: readonly JobStatus[], description: string): Promise<number | null> {
    const { records } = await this.sql.execute(
      `UPDATE jobs SET result_rejection = ?, result_rejections = result_rejections + 1, updated_at = ${this.sql.dialect.nowMs} ` +
        `WHERE id = ? AND status IN (${slots(statuses)}) RETURNING result_rejections`,
      [description, id, ...statuses],
    );
    return records.length === 1 ? Number(records[0].result_rejections) : null;
  }

  /** Hands leases back (graceful stop): the jobs are due again at once, for whoever claims next. */
  async releaseLeases(claims: { id: string; lease: string }[]): Promise<void> {
    if (claims.length === 0) return;
    const leases = [...new Set(claims.map((claim) => claim.lease))];
    await this.sql.execute(
      `UPDATE jobs SET lease_token = NULL, lease_expires_at = NULL WHERE id IN (${slots(claims)}) AND lease_token IN (${slots(leases)})`,
      [...claims.map((claim) => claim.id), ...leases],
    );
  }

  private where(condition: WriteCondition): { where: string; params: unknown[] } {
    let where = `id = ? AND status IN (${slots(condition.statuses)})`;
    const params: unknown[] = [condition.id, ...condition.statuses];
    if (condition.forwardAttempts !== undefined) {
      where += ' AND forward_attempts = ?';
      params.push(condition.forwardAttempts);
    }
    if (condition.llmServer !== undefined) {
      where += ' AND llm_server = ?';
      params.push(condition.llmServer);
    }
    if (condition.lease !== undefined) {
      where += ` AND lease_token = ? AND lease_expires_at > ${this.sql.dialect.nowMs}`;
      params.push(condition.lease);
    }
    return { where, params };
  }

  private stamped(changes: Changes): Changes {
    const stamped: Changes = { ...changes, updatedAt: DbValue.now() };
    if (changes.status !== undefined) stamped.changeSeq = this.changeSeq;
    return stamped;
  }
}

function slots(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}
