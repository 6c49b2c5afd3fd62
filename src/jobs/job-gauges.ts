import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { CONFIG, type RelayConfig } from '../config/config';
import { RelayMetrics } from '../metrics/relay-metrics';
import { type ClientLoad, JobLoadRepository, type LlmLoad } from './job-load.repository';
import { JOB_STATUSES } from './job-status';

/** How long one read of the LLM's load serves the gauges of one scrape. */
const LOAD_READ_TTL_MS = 1000;

/**
 * Gauges read from the database at scrape time, so every replica reports the same shared truth. When the database
 * does not answer they report nothing (relay_jobs) or NaN rather than failing the scrape, so relay_ready still shows.
 * Both stay cheap at any history size (job-load.repository.ts).
 */
@Injectable()
export class JobGauges implements OnModuleInit {
  private lastRead: { at: number; load: Promise<LlmLoad | null> } | null = null;
  private lastClientRead: { at: number; loads: Promise<ClientLoad[] | null> } | null = null;

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly load: JobLoadRepository,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  onModuleInit(): void {
    const load = this.load;
    const registers = [this.metrics.registry];
    new Gauge({
      name: 'relay_jobs',
      help: 'Jobs by status',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        this.reset();
        const counts = await load.statusCounts().catch(() => null);
        if (counts === null) return;
        for (const status of JOB_STATUSES) this.set({ status }, counts[status]);
      },
    });
    const fromLoad = (name: string, help: string, value: (load: LlmLoad) => number) => {
      const readLoad = () => this.readLoad();
      return new Gauge({
        name,
        help,
        registers,
        async collect() {
          const current = await readLoad();
          this.set(current === null ? Number.NaN : value(current));
        },
      });
    };
    fromLoad(
      'relay_llm_waiting',
      'Jobs waiting to be forwarded to the LLM (queued, no forward in progress)',
      (row) => row.queued - row.forwarding,
    );
    fromLoad(
      'relay_llm_in_flight',
      'Jobs at the LLM: forwarded or being forwarded, not yet called back (all replicas)',
      (row) => row.forwarding + row.processing,
    );
    const readClients = () => this.readClientLoads();
    const perClient = (name: string, help: string, value: (load: ClientLoad) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['client'] as const,
        registers,
        async collect() {
          this.reset();
          for (const client of (await readClients()) ?? []) this.set({ client: client.clientId }, value(client));
        },
      });
    perClient(
      'relay_client_jobs_waiting',
      "A client's jobs waiting to be forwarded (one series per client, which operators create)",
      (client) => client.waiting,
    );
    perClient('relay_client_jobs_in_flight', "A client's jobs at the LLM", (client) => client.inFlight);
    new Gauge({ name: 'relay_llm_max_in_flight', help: 'LLM_MAX_IN_FLIGHT (0: no limit)', registers }).set(
      this.config.llmMaxInFlight,
    );
    new Gauge({
      name: 'relay_oldest_pending_age_seconds',
      help: 'Age of the oldest job not yet delivered or failed (0 when none)',
      registers,
      async collect() {
        const age = await load.oldestPendingAgeMs().catch(() => Number.NaN);
        this.set(age === null ? 0 : age / 1000);
      },
    });
  }

  /** Both per-client gauges of one scrape share one read, likewise. */
  private readClientLoads(): Promise<ClientLoad[] | null> {
    if (this.lastClientRead === null || Date.now() - this.lastClientRead.at > LOAD_READ_TTL_MS) {
      this.lastClientRead = { at: Date.now(), loads: this.load.clientLoads().catch(() => null) };
    }
    return this.lastClientRead.loads;
  }

  /** Both LLM gauges of one scrape share one read: a collect within a second of the last reuses its answer. */
  private readLoad(): Promise<LlmLoad | null> {
    if (this.lastRead === null || Date.now() - this.lastRead.at > LOAD_READ_TTL_MS) {
      this.lastRead = { at: Date.now(), load: this.load.llmLoad().catch(() => null) };
    }
    return this.lastRead.load;
  }
}
