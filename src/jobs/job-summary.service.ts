import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONFIG, type RelayConfig } from '../config/config';
import { nowMsSql } from '../database/db-clock';
import { DirectSql } from '../database/direct-sql';
import type { AttemptOutcome, TimelineLeg } from './attempt.entity';
import { llmLoadSql, oldestPendingAgeSql } from './job-load-sql';
import { JOB_STATUSES, type JobStatus } from './job-status';
import { bucketDeliveriesPerMinute, MINUTE_MS, type MinuteBucket, type RecentAttempt, windowStart } from './minute-buckets';

/** Rows read per step of the walk back through delivery_attempts. */
const WALK_CHUNK = 2_000;
/** The most attempt rows one summary reads: ~14 attempts a second sustained for the whole hour. */
export const MAX_ATTEMPTS_SCANNED = 50_000;

export interface JobSummary {
  counts: Record<JobStatus, number>;
  llmWaiting: number;
  llmInFlight: number;
  /** Seconds; null when no job is pending. */
  oldestPendingAgeSeconds: number | null;
  minutes: MinuteBucket[];
  attemptsScanned: number;
  /** Null when every attempt of the window was counted; else the minute from which the counts are complete. */
  partialBefore: number | null;
  now: number;
  llmMaxInFlight: number;
  simulationEnabled: boolean;
}

/**
 * What the console's overview shows, at a cost independent of the history's size: counts from job_status_counts
 * (kept by triggers), the jobs at the LLM from the small idx_jobs_forwarding, the oldest pending job from the first
 * entry of idx_jobs_status_created per active status, and the last hour's deliveries from a walk back along the
 * attempts' primary key from the newest row (ids grow with time), stopped past the hour or after
 * MAX_ATTEMPTS_SCANNED rows. No index or trigger is added for it: job writes pay nothing.
 */
@Injectable()
export class JobSummaryService {
  private readonly sql: DirectSql;
  private readonly stateSql: string;
  /** How much later than its start an attempt's row may be written (its deadline and lease), plus a minute. */
  private readonly insertLagMs: number;
  /** One range of ids, counted by leg, outcome and minute (integer division on both databases). */
  private readonly rangeSql =
    `SELECT leg, outcome, started_at / ${MINUTE_MS} AS minute, COUNT(*) AS attempts, MIN(started_at) AS oldest ` +
    `FROM delivery_attempts WHERE id BETWEEN ? AND ? GROUP BY leg, outcome, started_at / ${MINUTE_MS}`;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.sql = new DirectSql(dataSource);
    const now = nowMsSql(dataSource);
    const load = llmLoadSql(now, dataSource.options.type === 'postgres').replace(/^SELECT /, '');
    this.stateSql = `SELECT ${load}, (${oldestPendingAgeSql(now)}) AS oldest_age_ms`;
    this.insertLagMs = config.outboundTimeoutMs + config.leaseMarginMs + 60_000;
  }

  async read(): Promise<JobSummary> {
    const [counts, state, recent] = await Promise.all([this.counts(), this.sql.execute(this.stateSql, []), this.recentAttempts()]);
    const row = state.records[0];
    const forwarding = Number(row.forwarding);
    const age = row.oldest_age_ms;
    return {
      counts,
      llmWaiting: Math.max(0, Number(row.queued) - forwarding),
      llmInFlight: forwarding + Number(row.processing),
      oldestPendingAgeSeconds: age === null || age === undefined ? null : Math.max(0, Number(age) / 1000),
      minutes: bucketDeliveriesPerMinute(recent.attempts, recent.now),
      attemptsScanned: recent.scanned,
      partialBefore: recent.partialBefore,
      now: recent.now,
      llmMaxInFlight: this.config.llmMaxInFlight,
      simulationEnabled: this.config.simulationEnabled,
    };
  }

  private async counts(): Promise<Record<JobStatus, number>> {
    const { records } = await this.sql.execute('SELECT status, SUM(job_count) AS count FROM job_status_counts GROUP BY status', []);
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const record of records) {
      if ((JOB_STATUSES as readonly string[]).includes(record.status)) counts[record.status as JobStatus] = Number(record.count);
    }
    return counts;
  }

  /**
   * The attempts of the last hour, counted per leg, outcome and minute by the database, in ranges of WALK_CHUNK ids
   * walked back from the newest row (ids grow with time; a row is written up to insertLagMs after its start). Each
   * range is one indexed aggregate over the primary key; between ranges the thread is handed back (setImmediate), so
   * a long hour never holds requests and callbacks behind it for more than one range. Started times come from the
   * processes' clocks (as the attempts record them), so the window is this process's last hour.
   */
  private async recentAttempts(): Promise<{ attempts: RecentAttempt[]; scanned: number; partialBefore: number | null; now: number }> {
    const now = Date.now();
    const stopBefore = windowStart(now) - this.insertLagMs;
    const attempts: RecentAttempt[] = [];
    let scanned = 0;
    let oldestRead = now;
    let high = await this.highestIdBelow(null);
    while (high !== null && scanned < MAX_ATTEMPTS_SCANNED) {
      const low = high - WALK_CHUNK + 1;
      const { records } = await this.sql.execute(this.rangeSql, [low, high]);
      for (const record of records) {
        const count = Number(record.attempts);
        attempts.push({ leg: record.leg as TimelineLeg, outcome: record.outcome as AttemptOutcome, startedAt: Number(record.minute) * MINUTE_MS, count });
        scanned += count;
        oldestRead = Math.min(oldestRead, Number(record.oldest));
      }
      if (oldestRead < stopBefore) break;
      // An empty range (ids freed by retention, or skipped by a sequence) jumps to the next row below it.
      high = records.length > 0 ? low - 1 : await this.highestIdBelow(low);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Rows land up to insertLagMs after they start, so rows not read may have started that much after the oldest read:
    // the minutes are complete only from the first whole minute past that.
    const completeFrom = Math.ceil((oldestRead + this.insertLagMs) / MINUTE_MS) * MINUTE_MS;
    const partialBefore = scanned >= MAX_ATTEMPTS_SCANNED && completeFrom > windowStart(now) ? completeFrom : null;
    return { attempts, scanned, partialBefore, now };
  }

  private async highestIdBelow(below: number | null): Promise<number | null> {
    const { records } = await this.sql.execute(
      below === null ? 'SELECT MAX(id) AS id FROM delivery_attempts' : 'SELECT MAX(id) AS id FROM delivery_attempts WHERE id < ?',
      below === null ? [] : [below],
    );
    const id = records[0]?.id;
    return id === null || id === undefined ? null : Number(id);
  }
}
