import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { nowMsSql } from '../database/db-clock';
import { ACTIVE_STATUSES, JOB_STATUSES } from '../jobs/job-status';
import { RelayMetrics } from './relay-metrics';

/**
 * Gauges read from the database at scrape time, so every replica reports the same shared truth. When the database
 * does not answer they report nothing (relay_jobs) or NaN rather than failing the scrape, so relay_ready still shows.
 */
@Injectable()
export class JobGauges implements OnModuleInit {
  constructor(
    private readonly metrics: RelayMetrics,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    const db = this.dataSource;
    const active = ACTIVE_STATUSES.map((status) => `'${status}'`).join(', ');
    new Gauge({
      name: 'relay_jobs',
      help: 'Jobs by status',
      labelNames: ['status'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        const rows: { status: string; count: string | number }[] | null = await db
          .query('SELECT status, COUNT(*) AS count FROM jobs GROUP BY status')
          .catch(() => null);
        if (rows === null) return;
        for (const status of JOB_STATUSES) {
          this.set({ status }, Number(rows.find((row) => row.status === status)?.count ?? 0));
        }
      },
    });
    new Gauge({
      name: 'relay_oldest_pending_age_seconds',
      help: 'Age of the oldest job not yet delivered or failed (0 when none)',
      registers: [this.metrics.registry],
      async collect() {
        const rows = await db
          .query(`SELECT ${nowMsSql(db)} - MIN(created_at) AS age FROM jobs WHERE status IN (${active})`)
          .catch(() => null);
        const age = rows?.[0]?.age;
        if (rows === null) this.set(Number.NaN);
        else this.set(age === null || age === undefined ? 0 : Number(age) / 1000);
      },
    });
  }
}
