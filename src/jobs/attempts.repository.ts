import { Injectable } from '@nestjs/common';
import { SqlExecutor } from '../database/sql-executor';
import { Attempt, type AttemptLeg, type AttemptOutcome, type TimelineLeg } from './attempt.entity';

export type NewAttempt = Omit<Attempt, 'id'>;

/** Attempts of one range of ids, counted per leg, outcome and minute of their start. */
export interface AttemptCount {
  leg: TimelineLeg;
  outcome: AttemptOutcome;
  /** The minute's start, epoch ms. */
  minute: number;
  count: number;
  /** Rows of the range in this group, whichever client's: what the walk read. */
  rows: number;
  /** The earliest start among them, epoch ms. */
  oldest: number;
}

const MINUTE_MS = 60_000;

/** `counted`: every row, or (with a client) that client's rows; `rows` always every row, so the walk's cost is bounded. */
function rangeSql(counted: string): string {
  return (
    `SELECT leg, outcome, started_at / ${MINUTE_MS} AS minute, ${counted} AS attempts, COUNT(*) AS range_rows, ` +
    `MIN(started_at) AS oldest FROM delivery_attempts WHERE id BETWEEN ? AND ? ` +
    `GROUP BY leg, outcome, started_at / ${MINUTE_MS}`
  );
}

/** The attempt rows that make up each job's timeline, for every leg, and the counts the console's summary reads. */
@Injectable()
export class AttemptsRepository {
  /** One range of ids, counted by leg, outcome and minute (integer division on both databases). */
  private readonly rangeSql = rangeSql('COUNT(*)');
  /** The same for one client's attempts: the same range of the primary key, only its rows counted (public for plan checks). */
  readonly clientRangeSql = rangeSql('SUM(CASE WHEN client_id = ? THEN 1 ELSE 0 END)');

  constructor(private readonly sql: SqlExecutor) {}

  private get attempts() {
    return this.sql.repository(Attempt);
  }

  async record(attempt: NewAttempt): Promise<void> {
    await this.sql.insert(Attempt, { ...attempt });
  }

  list(jobId: string): Promise<Attempt[]> {
    return this.attempts.find({ where: { jobId }, order: { id: 'ASC' } });
  }

  /**
   * The LLM servers that may hold the job: those a forward of it reached without a refusal (a 2xx, or no answer, which
   * may hide an accepted job); a server that answered 429, 5xx or another error status did not take it.
   */
  async forwardServers(jobId: string): Promise<string[]> {
    const { records } = await this.sql.execute(
      "SELECT DISTINCT llm_server FROM delivery_attempts WHERE job_id = ? AND leg = 'forward' AND llm_server IS NOT NULL " +
        'AND (status_code IS NULL OR (status_code >= 200 AND status_code < 300))',
      [jobId],
    );
    return records.map((row) => String(row.llm_server));
  }

  last(jobId: string, leg: AttemptLeg): Promise<Attempt | null> {
    return this.attempts.findOne({ where: { jobId, leg }, order: { id: 'DESC' } });
  }

  /** The last attempt of `leg` for each of a page's jobs, in two indexed reads whatever the page's size. */
  async lastOfEach(jobIds: string[], leg: AttemptLeg): Promise<Map<string, Attempt>> {
    if (jobIds.length === 0) return new Map();
    const latest = this.attempts
      .createQueryBuilder('a')
      .select('MAX(a.id)')
      .where('a.jobId IN (:...jobIds)', { jobIds })
      .andWhere('a.leg = :leg', { leg })
      .groupBy('a.jobId');
    const rows = await this.attempts
      .createQueryBuilder('attempt')
      .where(`attempt.id IN (${latest.getQuery()})`)
      .setParameters(latest.getParameters())
      .getMany();
    return new Map(rows.map((row) => [row.jobId, row]));
  }

  /**
   * The attempts with ids from `low` to `high` (of every client, or of one), counted by the database: one aggregate
   * over the primary key.
   */
  async countRange(low: number, high: number, clientId?: string): Promise<AttemptCount[]> {
    const { records } = await (clientId === undefined
      ? this.sql.execute(this.rangeSql, [low, high])
      : this.sql.execute(this.clientRangeSql, [clientId, low, high]));
    return records.map((record) => ({
      leg: record.leg as TimelineLeg,
      outcome: record.outcome as AttemptOutcome,
      minute: Number(record.minute) * MINUTE_MS,
      count: Number(record.attempts),
      rows: Number(record.range_rows),
      oldest: Number(record.oldest),
    }));
  }

  /** The highest attempt id (below `below`, when given); null when there is none. */
  async highestIdBelow(below: number | null): Promise<number | null> {
    const { records } = await this.sql.execute(
      below === null
        ? 'SELECT MAX(id) AS id FROM delivery_attempts'
        : 'SELECT MAX(id) AS id FROM delivery_attempts WHERE id < ?',
      below === null ? [] : [below],
    );
    const id = records[0]?.id;
    return id === null || id === undefined ? null : Number(id);
  }
}
