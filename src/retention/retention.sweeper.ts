import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONFIG, type RelayConfig } from '../config/config';
import { RelayMetrics } from '../metrics/relay-metrics';
import { FINISHED_STATUSES } from '../jobs/job-status';
import { RetentionRepository } from './retention.repository';
import { sweepDelayMs } from './sweep-schedule';

/**
 * Each DELETE aims at this much time: SQLite's driver is synchronous, so a batch holds the event loop (and the
 * write lock) for as long as it runs. The batch size follows the time the last one took, between the bounds below.
 */
const BATCH_TARGET_MS = 10;
const FIRST_BATCH = 100;
const MIN_BATCH = 10;
const MAX_BATCH = 500;
/**
 * Pause between batches, so intake, callbacks and ticks run in between. SQLite's is longer: it also lets the WAL
 * checkpointer catch up, so the relay's own connection does not have to checkpoint in the middle of a request.
 */
const PAUSE_MS = { sqlite: 40, postgres: 5 };

/**
 * Deletes finished jobs (and, by cascade, their attempts) once they have been finished and untouched for
 * JOB_RETENTION_DAYS. Never an unfinished job: only rows whose status is final, created and last updated before the
 * cutoff. Batches sized to take about BATCH_TARGET_MS each, oldest first, through idx_jobs_status_created, with a
 * pause between batches, so no batch holds the write lock or the event loop long. Replicas on PostgreSQL sweep at
 * the same time without double work: each batch's rows are taken with `FOR UPDATE SKIP LOCKED`, so two sweepers
 * delete different rows.
 */
@Injectable()
export class RetentionSweeper implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionSweeper.name);
  private readonly postgres: boolean;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private stopped = false;

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    private readonly retention: RetentionRepository,
    private readonly metrics: RelayMetrics,
  ) {
    this.postgres = retention.postgres;
  }

  /** Called once the relay listens: the first sweep runs soon after (sweep-schedule.ts), then one per interval. */
  start(): void {
    if (this.config.jobRetentionDays === 0 || this.timer || this.stopped) return;
    this.schedule(true);
  }

  private schedule(first: boolean): void {
    this.timer = setTimeout(
      () => {
        void this.sweep().finally(() => {
          if (!this.stopped) this.schedule(false);
        });
      },
      sweepDelayMs(this.config.retentionSweepIntervalMs, first),
    );
    this.timer.unref();
  }

  /** One sweep to the end (or until shutdown); resolves with the number of jobs deleted. Never rejects. */
  sweep(): Promise<number> {
    this.sweeping ??= this.deleteExpired()
      .catch((error: Error) => {
        this.logger.warn(`retention sweep stopped: ${error.message}`);
        return 0;
      })
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async deleteExpired(): Promise<number> {
    const cutoff = Math.floor(Date.now() - this.config.jobRetentionDays * 86_400_000);
    let deleted = 0;
    let batches = 0;
    let longestMs = 0;
    let batch = FIRST_BATCH;
    for (const status of FINISHED_STATUSES) {
      // Each batch starts where the last one ended: the deleted rows before it stay in PostgreSQL's index as dead
      // entries until vacuumed, and scanning them again at every batch made a sweep quadratic.
      let from = 0;
      for (;;) {
        if (this.stopped) return deleted;
        const started = performance.now();
        const records = await this.retention.deleteFinished(status, from, cutoff, batch);
        for (const createdAt of records) from = Math.max(from, createdAt);
        const tookMs = Math.max(1, performance.now() - started);
        batches += 1;
        longestMs = Math.max(longestMs, tookMs);
        deleted += records.length;
        this.metrics.jobsDeleted(records.length);
        if (records.length < batch) break;
        batch = Math.min(MAX_BATCH, Math.max(MIN_BATCH, Math.round((batch * BATCH_TARGET_MS) / tookMs)));
        await sleep(this.postgres ? PAUSE_MS.postgres : PAUSE_MS.sqlite);
      }
    }
    if (deleted > 0) {
      const vacuumMs = this.postgres ? 0 : await this.vacuum();
      this.logger.log(
        `retention: deleted ${deleted} job(s) finished before ${new Date(cutoff).toISOString()} in ${batches} batch(es), ` +
          `the longest ${longestMs.toFixed(0)} ms${this.postgres ? '' : `; longest vacuum step ${vacuumMs.toFixed(0)} ms`}`,
      );
    }
    return deleted;
  }

  /** Hands the freed pages of a file created with incremental vacuum back to the file system, a few at a time. */
  private async vacuum(): Promise<number> {
    let longestMs = 0;
    for (;;) {
      const free = await this.retention.freePages();
      if (this.stopped || free === 0) return longestMs;
      const started = performance.now();
      this.retention.vacuumStep();
      longestMs = Math.max(longestMs, performance.now() - started);
      const after = await this.retention.freePages();
      if (after >= free) return longestMs; // not an incremental-vacuum file: free pages get reused
      await sleep(PAUSE_MS.sqlite);
    }
  }

  /**
   * Stops at once without waiting: Nest runs this hook before the scheduler's (this module sits nearer the root), and
   * waiting here would hold up the drain while readiness still says ready. The batch under way ends in
   * onApplicationShutdown, before the DataSource closes.
   */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweeping;
  }
}
