import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { SqlExecutor } from '../database/sql-executor';
import { WorkSignal } from '../scheduler/work-signal';
import { RelayMetrics } from '../metrics/relay-metrics';

/** The same bound as the readiness probe's database ping. */
const PING_TIMEOUT_MS = 2000;

/**
 * `relay_ready`: 1 when /health/ready would answer 200 (not draining, the database answers), else 0. `up` only says
 * that a scrape worked; this says whether the replica can take work, so an alert can tell the two apart.
 */
@Injectable()
export class ReadinessGauge implements OnModuleInit {
  constructor(
    private readonly metrics: RelayMetrics,
    private readonly sql: SqlExecutor,
    private readonly work: WorkSignal,
  ) {}

  onModuleInit(): void {
    const ready = () => this.ready();
    new Gauge({
      name: 'relay_ready',
      help: '1 when the relay is ready (database answers, not draining after SIGTERM), else 0',
      registers: [this.metrics.registry],
      async collect() {
        this.set((await ready()) ? 1 : 0);
      },
    });
  }

  private async ready(): Promise<boolean> {
    if (this.work.isDraining) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS)));
    const ping = this.sql.ping().then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
