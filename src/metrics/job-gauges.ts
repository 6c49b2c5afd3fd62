import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { CONFIG, type RelayConfig } from '../config/config';
import { nowMsSql } from '../database/db-clock';
import { llmLoadSql, oldestPendingAgeSql } from '../jobs/job-load-sql';
import { JOB_STATUSES } from '../jobs/job-status';
import { RelayMetrics } from './relay-metrics';

/**
 * Gauges read from the database at scrape time, so every replica reports the same shared truth. When the database
 * does not answer they report nothing (relay_jobs) or NaN rather than failing the scrape, so relay_ready still shows.
 * Both stay cheap at any history size: the counts come from `job_status_counts` (kept by triggers, one row per
 * status), the oldest pending job from the first entry of idx_jobs_status_created per active status.
 */
@Injectable()
export class JobGauges implements OnModuleInit {
  constructor(
    private readonly metrics: RelayMetrics,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  onModuleInit(): void {
    const db = this.dataSource;
    new Gauge({
      name: 'relay_jobs',
      help: 'Jobs by status',
      labelNames: ['status'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        const rows: { status: string; count: string | number }[] | null = await db
          .query('SELECT status, job_count AS count FROM job_status_counts')
          .catch(() => null);
        if (rows === null) return;
        for (const status of JOB_STATUSES) {
          this.set({ status }, Number(rows.find((row) => row.status === status)?.count ?? 0));
        }
      },
    });
    const atLlm = llmLoadSql(nowMsSql(db), db.options.type === 'postgres');
    // Both LLM gauges come from one read per scrape: the second collect within a second reuses the first's answer.
    let lastRead: { at: number; rows: Promise<Record<string, unknown>[] | null> } | null = null;
    const readAtLlm = () => {
      if (lastRead === null || Date.now() - lastRead.at > 1000) {
        lastRead = { at: Date.now(), rows: db.query(atLlm).catch(() => null) };
      }
      return lastRead.rows;
    };
    const llmGauge = (name: string, help: string, value: (row: Record<string, unknown>) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.metrics.registry],
        async collect() {
          const rows = await readAtLlm();
          this.set(rows === null ? Number.NaN : value(rows[0]));
        },
      });
    llmGauge('relay_llm_waiting', 'Jobs waiting to be forwarded to the LLM (queued, no forward in progress)', (row) =>
      Number(row.queued) - Number(row.forwarding),
    );
    llmGauge('relay_llm_in_flight', 'Jobs at the LLM: forwarded or being forwarded, not yet called back (all replicas)', (row) =>
      Number(row.forwarding) + Number(row.processing),
    );
    new Gauge({
      name: 'relay_llm_max_in_flight',
      help: 'LLM_MAX_IN_FLIGHT (0: no limit)',
      registers: [this.metrics.registry],
    }).set(this.config.llmMaxInFlight);
    new Gauge({
      name: 'relay_oldest_pending_age_seconds',
      help: 'Age of the oldest job not yet delivered or failed (0 when none)',
      registers: [this.metrics.registry],
      async collect() {
        const rows = await db
          .query(`SELECT (${oldestPendingAgeSql(nowMsSql(db))}) AS age`)
          .catch(() => null);
        const age = rows?.[0]?.age;
        if (rows === null) this.set(Number.NaN);
        else this.set(age === null || age === undefined ? 0 : Number(age) / 1000);
      },
    });
  }
}
