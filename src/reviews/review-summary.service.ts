import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { AttemptsRepository } from '../jobs/attempts.repository';
import { LlmFleet } from '../llm-server/llm-fleet';
import { type ClientLoad, JobLoadRepository } from '../jobs/job-load.repository';
import type { JobStatus } from '../jobs/job-status';
import {
  bucketDeliveriesPerMinute,
  MINUTE_MS,
  type MinuteBucket,
  type RecentAttempt,
  windowStart,
} from './minute-buckets';

/** Rows read per step of the walk back through delivery_attempts. */
const WALK_CHUNK = 2_000;
/** The most attempt rows one summary reads: ~14 attempts a second sustained for the whole hour. */
export const MAX_ATTEMPTS_SCANNED = 50_000;

export interface JobSummary {
  counts: Record<JobStatus, number>;
  llmWaiting: number;
  llmInFlight: number;
  /** Per client (the one asked for, or every client): jobs waiting for their forward and at the LLM. */
  clients: ClientLoad[];
  /** The LLM servers: state as this replica sees it, jobs at each, capacity. */
  llmServers: Awaited<ReturnType<LlmFleet['describe']>>;
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
 * What the console's overview shows, at a cost independent of the history's size: counts from job_counts
 * (kept by triggers), the jobs at the LLM from the small idx_jobs_forwarding, the oldest pending job from the first
 * entry of idx_jobs_status_created per active status, and the last hour's deliveries from a walk back along the
 * attempts' primary key from the newest row (ids grow with time), stopped past the hour or after
 * MAX_ATTEMPTS_SCANNED rows. No index or trigger is added for it: job writes pay nothing.
 */
@Injectable()
export class ReviewSummaryService {
  /** How much later than its start an attempt's row may be written (its deadline and lease), plus a minute. */
  private readonly insertLagMs: number;

  constructor(
    private readonly load: JobLoadRepository,
    private readonly attempts: AttemptsRepository,
    private readonly fleet: LlmFleet,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.insertLagMs = config.outboundTimeoutMs + config.leaseMarginMs + 60_000;
  }

  /** Every client's jobs and deliveries, or one client's; the LLM's figures are always the relay's. */
  async read(clientId?: string): Promise<JobSummary> {
    const [counts, load, clients, servers, age, recent] = await Promise.all([
      this.load.statusCounts(clientId),
      this.load.llmLoad(),
      this.load.clientLoads(),
      this.fleet.describe(),
      this.load.oldestPendingAgeMs(clientId),
      this.recentAttempts(clientId),
    ]);
    return {
      counts,
      llmWaiting: Math.max(0, load.queued - load.forwarding),
      llmInFlight: load.forwarding + load.processing,
      llmServers: servers,
      clients: clients.filter((client) => clientId === undefined || client.clientId === clientId),
      oldestPendingAgeSeconds: age === null ? null : Math.max(0, age / 1000),
      minutes: bucketDeliveriesPerMinute(recent.attempts, recent.now),
      attemptsScanned: recent.scanned,
      partialBefore: recent.partialBefore,
      now: recent.now,
      llmMaxInFlight: this.config.llmMaxInFlight,
      simulationEnabled: this.config.simulationEnabled,
    };
  }

  /**
   * The attempts of the last hour, counted per leg, outcome and minute by the database, in ranges of WALK_CHUNK ids
   * walked back from the newest row (ids grow with time; a row is written up to insertLagMs after its start). Each
   * range is one indexed aggregate over the primary key; between ranges the thread is handed back (setImmediate), so
   * a long hour never holds requests and callbacks behind it for more than one range. Started times come from the
   * processes' clocks (as the attempts record them), so the window is this process's last hour.
   */
  private async recentAttempts(clientId: string | undefined): Promise<{
    attempts: RecentAttempt[];
    scanned: number;
    partialBefore: number | null;
    now: number;
  }> {
    const now = Date.now();
    const stopBefore = windowStart(now) - this.insertLagMs;
    const attempts: RecentAttempt[] = [];
    let scanned = 0;
    let oldestRead = now;
    let high = await this.attempts.highestIdBelow(null);
    while (high !== null && scanned < MAX_ATTEMPTS_SCANNED) {
      const low = high - WALK_CHUNK + 1;
      const counts = await this.attempts.countRange(low, high, clientId);
      for (const { leg, outcome, minute, count, rows, oldest } of counts) {
        if (count > 0) attempts.push({ leg, outcome, startedAt: minute, count });
        scanned += rows;
        oldestRead = Math.min(oldestRead, oldest);
      }
      if (oldestRead < stopBefore) break;
      // An empty range (ids freed by retention, or skipped by a sequence) jumps to the next row below it.
      high = counts.length > 0 ? low - 1 : await this.attempts.highestIdBelow(low);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Rows land up to insertLagMs after they start, so rows not read may have started that much after the oldest read:
    // the minutes are complete only from the first whole minute past that.
    const completeFrom = Math.ceil((oldestRead + this.insertLagMs) / MINUTE_MS) * MINUTE_MS;
    const partialBefore = scanned >= MAX_ATTEMPTS_SCANNED && completeFrom > windowStart(now) ? completeFrom : null;
    return { attempts, scanned, partialBefore, now };
  }
}
