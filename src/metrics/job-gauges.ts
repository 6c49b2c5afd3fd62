import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { nowMsSql } from '../database/db-clock';
import { ACTIVE_STATUSES, JOB_STATUSES } from '../jobs/job-status';
import { RelayMetrics } from './relay-metrics';

/** Gauges read from the database at scrape time, so every replica reports the same shared truth. */
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
        const rows: { status: string; count: string | number }[] = await db.query(
          'SELECT status, COUNT(*) AS count FROM jobs GROUP BY status',
        );
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
        const [row] = await db.query(
          `SELECT ${nowMsSql(db)} - MIN(created_at) AS age FROM jobs WHERE status IN (${active})`,
        );
        this.set(row?.age === null || row?.age === undefined ? 0 : Number(row.age) / 1000);
      },
    });
  }
}
