import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AsyncResource } from 'node:async_hooks';
import { CONFIG, type RelayConfig } from '../config/config';
import { isDatabaseUnavailable } from '../database/database-outage';
import type { AttemptLeg } from '../jobs/attempt.entity';
import { failureOutcome } from '../jobs/job-outcome';
import { ClaimedJob, JobOutcome, JobsService } from '../jobs/jobs.service';
import { CancelNoticeService } from './cancel-notice.service';
import { DeliveryService } from './delivery.service';
import { ForwardService } from './forward.service';
import { LlmPace } from './llm-pace';

const INTERVAL_NAME = 'relay-work-tick';
/** Deliveries first (their results are known), then cancellation notices (they free the LLM), then forwards. */
const LEGS: readonly AttemptLeg[] = ['delivery', 'cancel', 'forward'];

/**
 * Only ticks: claim due work up to the concurrency budget and start each attempt without waiting for it; on the
 * interval, also expire overdue callbacks. Ticks never overlap; kicks coalesce: those of one burst (500 intakes)
 * share a tick, and a kick during a tick runs one more right after. Work is found in the database every time, so a
 * restart (or another replica) picks up whatever a dead process left.
 */
@Injectable()
export class WorkScheduler implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(WorkScheduler.name);
  /** Attempts running now, by job id. */
  private readonly inFlight = new Map<string, { claim: ClaimedJob; done: Promise<void> }>();
  private ticking: Promise<void> | null = null;
  private again = false;
  private expireDue = true;
  private pendingKick: NodeJS.Immediate | null = null;
  /** A kick for when the LLM's pause ends. */
  private resumeTimer: NodeJS.Timeout | null = null;
  private draining = false;
  /** The last tick failed because the database did not answer: said once, not on every tick. */
  private databaseAway = false;
  private readonly context = new AsyncResource('relay-scheduler');
  private readonly timedOut: JobOutcome;
  /** Without LLM_CANCEL_PATH no notice is ever due, so that leg costs no claim. */
  private readonly legs: readonly AttemptLeg[];

  constructor(
    private readonly jobs: JobsService,
    private readonly forwarder: ForwardService,
    private readonly deliverer: DeliveryService,
    private readonly canceller: CancelNoticeService,
    private readonly pace: LlmPace,
    private readonly registry: SchedulerRegistry,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.legs = LEGS.filter((leg) => leg !== 'cancel' || config.llmCancelPath !== null);
    this.timedOut = failureOutcome('llm_timeout', `The LLM did not call back within ${config.llmCallbackTimeoutSeconds} seconds`);
  }

  /**
   * Called once the HTTP server listens (see listenAndRun in bootstrap.ts), not at bootstrap: a forward carries a
   * callback URL, and the LLM may call it back at once.
   */
  start(): void {
    if (this.registry.doesExist('interval', INTERVAL_NAME)) return;
    const timer = setInterval(() => {
      this.expireDue = true;
      this.kick();
    }, this.config.schedulerIntervalMs);
    this.registry.addInterval(INTERVAL_NAME, timer);
    this.kick();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Look for due work now instead of at the next tick (after intake, a callback or a finished attempt). The tick
   * starts once the current I/O callbacks have run, so every kick of one burst is served by the same tick.
   */
  kick(): void {
    if (this.draining || this.pendingKick) return;
    this.pendingKick = setImmediate(() => {
      this.pendingKick = null;
      this.startTick();
    });
  }

  private startTick(): void {
    if (this.draining) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    // Run in the scheduler's own async context, not the request's that kicked it, so attempt logs don't carry the
    // id of whichever request happened to start the tick.
    this.ticking = this.context
      .runInAsyncScope(() => this.tick())
      .then(() => this.tickSucceeded())
      .catch((error: Error) => this.tickFailed(error))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private tickSucceeded(): void {
    if (!this.databaseAway) return;
    this.databaseAway = false;
    this.logger.log('the database answers again: claiming work');
  }

  /**
   * A tick that failed because the database is away is retried at the next interval, not at once (kicks during it
   * are dropped), so an outage costs one failing statement per interval and one log line, not a loop.
   */
  private tickFailed(error: Error): void {
    if (!isDatabaseUnavailable(error)) {
      this.logger.error(`tick failed: ${error.message}`, error.stack);
      return;
    }
    this.again = false;
    if (this.databaseAway) return;
    this.databaseAway = true;
    this.logger.warn(`the database does not answer (${error.message}): trying again every ${this.config.schedulerIntervalMs} ms`);
  }

  /** Resolves when the current tick (if any) has claimed its work; for tests and shutdown. */
  async settled(): Promise<void> {
    while (this.pendingKick || this.ticking || this.inFlight.size > 0) {
      if (this.pendingKick) await new Promise((resolve) => setImmediate(resolve));
      await Promise.all([this.ticking, ...[...this.inFlight.values()].map((attempt) => attempt.done)]);
    }
  }

  private async tick(): Promise<void> {
    if (this.expireDue) {
      this.expireDue = false;
      await this.jobs.expireCallbacks(this.timedOut);
    }
    const leaseMs = this.config.outboundTimeoutMs + this.config.leaseMarginMs;
    for (const leg of this.legs) {
      const budget = this.config.workerConcurrency - this.inFlight.size;
      if (budget <= 0 || this.draining) return;
      if (leg === 'forward' && this.pausedForLlm()) continue;
      const claims = await this.jobs.claimDue(leg, budget, leaseMs, leg === 'forward' ? this.config.llmMaxInFlight : 0);
      for (const claim of claims) this.launch(leg, claim);
    }
  }

  /** While the LLM asked for a pause, forwards wait; a kick is set for when it ends. */
  private pausedForLlm(): boolean {
    const remaining = this.pace.remainingMs();
    if (remaining === 0) return false;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = null;
      this.kick();
    }, remaining + 1);
    this.resumeTimer.unref();
    return true;
  }

  private launch(leg: AttemptLeg, claim: ClaimedJob): void {
    const attempt = this.attempt(leg, claim);
    const tracked = attempt
      .then(() => undefined)
      .catch((error: Error) => this.logger.error(`${leg} attempt for ${claim.job.id} failed: ${error.message}`, error.stack))
      .finally(() => {
        this.inFlight.delete(claim.job.id);
        this.kick();
      });
    this.inFlight.set(claim.job.id, { claim, done: tracked });
  }

  private attempt(leg: AttemptLeg, claim: ClaimedJob): Promise<unknown> {
    if (leg === 'forward') return this.forwarder.attemptForward(claim);
    if (leg === 'cancel') return this.canceller.attemptNotice(claim);
    return this.deliverer.attemptDelivery(claim);
  }

  /** SIGTERM: claim nothing new, give running attempts a bounded time, hand back the leases of the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    if (this.registry.doesExist('interval', INTERVAL_NAME)) this.registry.deleteInterval(INTERVAL_NAME);
    await this.ticking;
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.config.shutdownGraceMs).unref());
    if (this.pendingKick) clearImmediate(this.pendingKick);
    await Promise.race([Promise.all([...this.inFlight.values()].map((attempt) => attempt.done)), grace]);
    const unfinished = [...this.inFlight.values()].map((attempt) => attempt.claim);
    if (unfinished.length > 0) {
      this.logger.warn(`releasing ${unfinished.length} unfinished attempt(s) on shutdown`);
      await this.jobs.releaseAll(unfinished);
    }
  }

  /**
   * The attempts that outlived the grace period were cut off when the outbound clients destroyed their agents (right
   * after the drain above). Each still makes its last, fenced write: it must land before the global TypeORM module
   * closes the DataSource, which comes after this hook.
   */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.inFlight.values()].map((attempt) => attempt.done));
  }
}
