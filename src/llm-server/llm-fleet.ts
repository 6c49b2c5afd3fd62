import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { CONFIG, type RelayConfig } from '../config/config';
import { PublicUrls } from '../config/public-urls';
import { JobLoadRepository } from '../jobs/job-load.repository';
import { RelayMetrics } from '../metrics/relay-metrics';
import { AgentPair, destroyAgents, trustedAgents } from '../scheduler/http-agents';
import { getStatus } from '../scheduler/outbound-http';
import { headersFor, type ServerStateName, ServerState } from './server-state';

/** Where the built-in simulated LLM listens inside this process when no LLM server is configured. */
export const SIMULATED_LLM_PREFIX = '/simulated-llm';

const STATES: ServerStateName[] = ['closed', 'open', 'half-open', 'paused', 'unhealthy'];

/**
 * The LLM servers this replica forwards to, each with what this replica has learnt of it (ServerState: pause,
 * circuit, health), its health probes, and its metrics. Which server a job goes to is chosen with the jobs' counts
 * at each server from the database (see ClaimsRepository and pickServer).
 */
@Injectable()
export class LlmFleet implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LlmFleet.name);
  readonly servers: ServerState[];
  private readonly byName = new Map<string, ServerState>();
  private readonly probeAgents: AgentPair = trustedAgents();
  private timer: NodeJS.Timeout | null = null;
  private readonly forwards: Counter<'server' | 'outcome'>;
  /** Told every forward's and probe's verdict (DeadServerWatch records them for all replicas to see). */
  onVerdict: (server: string, success: boolean) => void = () => undefined;
  private readonly latency: Histogram<'server'>;

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    private readonly urls: PublicUrls,
    private readonly load: JobLoadRepository,
    metrics: RelayMetrics,
  ) {
    const settings = {
      failureThreshold: config.llmServerFailureThreshold,
      cooldownMs: config.llmServerCooldownMs,
      backoff: { ...config.forward, maxRetries: Number.MAX_SAFE_INTEGER },
      retryAfterMaxSeconds: config.retryAfterMaxSeconds,
    };
    this.servers = config.llmServers.map((server) => new ServerState(server, settings));
    for (const server of this.servers) this.byName.set(server.name, server);
    const registers = [metrics.registry];
    const servers = this.servers;
    new Gauge({
      name: 'relay_llm_server_state',
      help: "Each LLM server's state as this replica sees it: 1 for the current one of closed, open, half-open, paused, unhealthy",
      labelNames: ['server', 'state'] as const,
      registers,
      collect() {
        const now = Date.now();
        for (const server of servers) {
          const current = server.state(now);
          for (const state of STATES) this.set({ server: server.name, state }, state === current ? 1 : 0);
        }
      },
    });
    const loads = () => this.load.serverLoads().catch(() => null);
    new Gauge({
      name: 'relay_llm_server_in_flight',
      help: 'Jobs at each LLM server: being forwarded to it or awaiting their callback, all replicas',
      labelNames: ['server'] as const,
      registers,
      async collect() {
        const atServer = await loads();
        for (const server of servers) this.set({ server: server.name }, atServer?.get(server.name) ?? Number.NaN);
      },
    });
    const waitSeconds = () => this.waitMs() / 1000;
    new Gauge({
      name: 'relay_llm_pause_seconds',
      help: 'Seconds until this replica forwards again: until the first LLM server is available (0: one is)',
      registers,
      collect() {
        this.set(waitSeconds());
      },
    });
    this.forwards = new Counter({
      name: 'relay_llm_server_forwards_total',
      help: 'Forwards by LLM server and outcome (accepted, retryable, failed)',
      labelNames: ['server', 'outcome'] as const,
      registers,
    });
    this.latency = new Histogram({
      name: 'relay_llm_server_forward_seconds',
      help: "Forward latency by LLM server (its answer's arrival)",
      labelNames: ['server'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  onModuleInit(): void {
    if (!this.servers.some((server) => server.config.healthPath !== null)) return;
    this.timer = setInterval(() => void this.probeAll(), this.config.llmServerHealthIntervalMs);
    this.timer.unref();
    void this.probeAll();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    destroyAgents(this.probeAgents);
  }

  server(name: string | null): ServerState | undefined {
    return name === null ? undefined : this.byName.get(name);
  }

  /** The servers a forward may go to now (capacity aside: that is counted from the database). */
  available(now: number = Date.now()): ServerState[] {
    return this.servers.filter((server) => server.available(now));
  }

  /** How long until some server may take a forward (0: one may now); for the scheduler's pause of the forward leg. */
  waitMs(now: number = Date.now()): number {
    const wait = Math.min(...this.servers.map((server) => server.waitMs(now)));
    // Unhealthy or probing everywhere: look again at the next health probe.
    return Number.isFinite(wait) ? wait : this.config.llmServerHealthIntervalMs;
  }

  /** How long a server must fail everything tried, on every replica, to be dead (LLM_SERVER_DEAD_AFTER_SECONDS). */
  get deadAfterMs(): number {
    return this.config.llmServerDeadAfterMs;
  }

  /** The base URL of a server, the simulated LLM's when it has none. */
  baseUrl(server: ServerState): string {
    return server.config.url ?? `${this.urls.loopbackBaseUrl()}${SIMULATED_LLM_PREFIX}`;
  }

  /** Each server as the console's overview shows it: state on this replica, jobs at it (all replicas), capacity. */
  async describe(): Promise<{ name: string; state: ServerStateName; inFlight: number; maxInFlight: number }[]> {
    const atServer = await this.load.serverLoads();
    const now = Date.now();
    return this.servers.map((server) => ({
      name: server.name,
      state: server.state(now),
      inFlight: atServer.get(server.name) ?? 0,
      maxInFlight: server.config.maxInFlight,
    }));
  }

  recordForward(server: ServerState, outcome: 'accepted' | 'retryable' | 'failed', durationMs: number): void {
    this.forwards.inc({ server: server.name, outcome });
    if (outcome !== 'failed') this.onVerdict(server.name, outcome === 'accepted');
    this.latency.observe({ server: server.name }, durationMs / 1000);
  }

  private async probeAll(): Promise<void> {
    await Promise.all(
      this.servers
        .filter((server) => server.config.healthPath !== null)
        .map(async (server) => {
          const status = await getStatus(
            `${this.baseUrl(server)}${server.config.healthPath}`,
            this.config.outboundTimeoutMs,
            this.probeAgents,
            headersFor(server),
          );
          const healthy = status !== null && status >= 200 && status < 300;
          if (healthy !== (server.state() !== 'unhealthy')) {
            this.logger.warn(
              `LLM server ${server.name} is ${healthy ? 'healthy again' : 'unhealthy'} (health probe: ${status ?? 'no answer'})`,
            );
          }
          server.probed(healthy);
          this.onVerdict(server.name, healthy);
        }),
    );
  }
}
