import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONFIG, type RelayConfig } from '../config/config';
import { nowMsSql } from '../database/db-clock';
import { DirectSql } from '../database/direct-sql';
import type { AttemptOutcome, TimelineLeg } from './attempt.entity';
import { llmLoadSql } from './claim-statement';
import { ACTIVE_STATUSES, JOB_STATUSES, type JobStatus } from './job-status';
import { bucketDeliveriesPerMinute, type MinuteBucket, type RecentAttempt, windowStart } from './minute-buckets';

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
  /** Null when every attempt of the window was counted; else the start time of the oldest attempt read. */
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

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.sql = new DirectSql(dataSource);
    const now = nowMsSql(dataSource);
    const oldest = ACTIVE_STATUSES.map((status) => `SELECT MIN(created_at) AS oldest FROM jobs WHERE status = '${status}'`).join(' UNION ALL ');
    const load = llmLoadSql(now, dataSource.options.type === 'postgres').replace(/^SELECT /, '');
    this.stateSql = `SELECT ${load}, (SELECT ${now} - MIN(oldest) FROM (${oldest}) AS pending) AS oldest_age_ms`;
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
      attemptsScanned: recent.attempts.length,
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
   * The attempts of the last hour, newest first, read in chunks along the primary key. Started times come from the
   * processes' clocks (as the attempts record them), so the window is this process's last hour.
   */
  private async recentAttempts(): Promise<{ attempts: RecentAttempt[]; partialBefore: number | null; now: number }> {
    const now = Date.now();
    const stopBefore = windowStart(now) - this.insertLagMs;
    const attempts: RecentAttempt[] = [];
    let below: number | null = null;
    while (attempts.length < MAX_ATTEMPTS_SCANNED) {
      const limit = Math.min(WALK_CHUNK, MAX_ATTEMPTS_SCANNED - attempts.length);
      const { records } = await this.sql.execute(
        `SELECT id, leg, outcome, started_at FROM delivery_attempts ${below === null ? '' : 'WHERE id < ? '}ORDER BY id DESC LIMIT ?`,
        below === null ? [limit] : [below, limit],
      );
      for (const record of records) {
        attempts.push({ leg: record.leg as TimelineLeg, outcome: record.outcome as AttemptOutcome, startedAt: Number(record.started_at) });
      }
      if (records.length < limit) return { attempts, partialBefore: null, now };
      below = Number(records[records.length - 1].id);
      if (Number(records[records.length - 1].started_at) < stopBefore) return { attempts, partialBefore: null, now };
    }
    const oldestRead = attempts.reduce((oldest, attempt) => Math.min(oldest, attempt.startedAt), now);
    return { attempts, partialBefore: oldestRead > windowStart(now) ? oldestRead : null, now };
  }
}
