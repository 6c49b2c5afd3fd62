import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { CONFIG, type RelayConfig } from '../config/config';
import { DirectSql } from '../database/direct-sql';
import { RelayMetrics } from '../metrics/relay-metrics';
import { FINISHED_STATUSES } from './job-status';

/** Jobs per DELETE: a few milliseconds of write lock on SQLite, then the other work gets its turn. */
export const RETENTION_BATCH = 500;
/** SQLite pages handed back to the file system after each batch (when the file was created with incremental vacuum). */
const VACUUM_PAGES = 2000;

/**
 * Deletes finished jobs (and, by cascade, their attempts) once they have been finished and untouched for
 * JOB_RETENTION_DAYS. Never an unfinished job: only rows whose status is final, created and last updated before the
 * cutoff. Batches of RETENTION_BATCH, oldest first, through idx_jobs_status_created, with a pause between batches
 * so no batch holds the write lock long. Replicas on PostgreSQL sweep at the same time without double work: each
 * batch's rows are taken with `FOR UPDATE SKIP LOCKED`, so two sweepers delete different rows.
 */
@Injectable()
export class RetentionSweeper implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RetentionSweeper.name);
  private readonly sql: DirectSql;
  private readonly postgres: boolean;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private stopped = false;

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: RelayMetrics,
  ) {
    this.sql = new DirectSql(dataSource);
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** Called once the relay listens: the first sweep runs after one interval, then one per interval. */
  start(): void {
    if (this.config.jobRetentionDays === 0 || this.timer || this.stopped) return;
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.sweep().finally(() => {
        if (!this.stopped) this.schedule();
      });
    }, this.config.retentionSweepIntervalMs);
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
    const cutoff = Date.now() - this.config.jobRetentionDays * 86_400_000;
    let deleted = 0;
    for (const status of FINISHED_STATUSES) {
      for (;;) {
        if (this.stopped) return deleted;
        const { records } = await this.sql.execute(this.statement, [status, cutoff, cutoff, RETENTION_BATCH]);
        deleted += records.length;
        this.metrics.jobsDeleted(records.length);
        if (!this.postgres && records.length > 0) await this.dataSource.query(`PRAGMA incremental_vacuum(${VACUUM_PAGES})`);
        if (records.length < RETENTION_BATCH) break;
        await sleep(10);
      }
    }
    if (deleted > 0) this.logger.log(`retention: deleted ${deleted} job(s) finished before ${new Date(cutoff).toISOString()}`);
    return deleted;
  }

  private get statement(): string {
    return (
      'DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = ? AND created_at < ? AND updated_at < ? ' +
      `ORDER BY created_at LIMIT ?${this.postgres ? ' FOR UPDATE SKIP LOCKED' : ''}) RETURNING id`
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
  }
}
