import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AsyncResource } from 'node:async_hooks';
import { CONFIG, type RelayConfig } from '../config/config';
import { failureOutcome } from '../jobs/job-outcome';
import { ClaimedJob, JobsService } from '../jobs/jobs.service';
import { DeliveryService } from './delivery.service';
import { ForwardService } from './forward.service';

const INTERVAL_NAME = 'relay-work-tick';

/**
 * Only ticks: expire overdue callbacks, claim due work up to the concurrency budget, start each attempt without
 * waiting for it. Ticks never overlap; a kick during a tick runs one more right after. Work is found in the database
 * every time, so a restart (or another replica) picks up whatever a dead process left.
 */
@Injectable()
export class WorkScheduler implements BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkScheduler.name);
  private readonly inFlight = new Map<string, Promise<void>>();
  private ticking: Promise<void> | null = null;
  private again = false;
  private draining = false;
  private readonly context = new AsyncResource('relay-scheduler');

  constructor(
    private readonly jobs: JobsService,
    private readonly forwarder: ForwardService,
    private readonly deliverer: DeliveryService,
    private readonly registry: SchedulerRegistry,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  /**
   * Called once the HTTP server listens (see listenAndRun in bootstrap.ts), not at bootstrap: a forward carries a
   * callback URL, and the LLM may call it back at once.
   */
  start(): void {
    if (this.registry.doesExist('interval', INTERVAL_NAME)) return;
    const timer = setInterval(() => this.kick(), this.config.schedulerIntervalMs);
    this.registry.addInterval(INTERVAL_NAME, timer);
    this.kick();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Look for due work now instead of at the next tick (after intake, a callback or a finished attempt). */
  kick(): void {
    if (this.draining) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    // Run in the scheduler's own async context, not the request's that kicked it, so attempt logs don't carry the
    // id of whichever request happened to start the tick.
    this.ticking = this.context
      .runInAsyncScope(() => this.tick())
      .catch((error: Error) => this.logger.error(`tick failed: ${error.message}`, error.stack))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when the current tick (if any) has claimed its work; for tests and shutdown. */
  async settled(): Promise<void> {
    while (this.ticking || this.inFlight.size > 0) {
      await Promise.all([this.ticking, ...this.inFlight.values()]);
    }
  }

  private async tick(): Promise<void> {
    const timedOut = failureOutcome(
      'llm_timeout',
      `The LLM did not call back within ${this.config.llmCallbackTimeoutSeconds} seconds`,
    );
    await this.jobs.expireCallbacks(timedOut);
    const leaseMs = this.config.outboundTimeoutMs + this.config.leaseMarginMs;
    for (const leg of ['delivery', 'forward'] as const) {
      const budget = this.config.workerConcurrency - this.inFlight.size;
      if (budget <= 0 || this.draining) return;
      for (const claim of await this.jobs.claimDue(leg, budget, leaseMs)) this.launch(leg, claim);
    }
  }

  private launch(leg: 'forward' | 'delivery', claim: ClaimedJob): void {
    const attempt = leg === 'forward' ? this.forwarder.attemptForward(claim) : this.deliverer.attemptDelivery(claim);
    const tracked = attempt
      .then(() => undefined)
      .catch((error: Error) => this.logger.error(`${leg} attempt for ${claim.job.id} failed: ${error.message}`, error.stack))
      .finally(() => {
        this.inFlight.delete(claim.lease);
        this.kick();
      });
    this.inFlight.set(claim.lease, tracked);
  }

  /** SIGTERM: claim nothing new, give running attempts a bounded time, hand back the leases of the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    if (this.registry.doesExist('interval', INTERVAL_NAME)) this.registry.deleteInterval(INTERVAL_NAME);
    await this.ticking;
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.config.shutdownGraceMs).unref());
    await Promise.race([Promise.all(this.inFlight.values()), grace]);
    const unfinished = [...this.inFlight.keys()];
    if (unfinished.length > 0) {
      this.logger.warn(`releasing ${unfinished.length} unfinished attempt(s) on shutdown`);
      await this.jobs.releaseAll(unfinished);
    }
  }
}
