import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AsyncResource } from 'node:async_hooks';
import { CONFIG, type RelayConfig } from '../config/config';
import { isDatabaseUnavailable } from '../database/database-outage';
import type { AttemptLeg } from '../jobs/attempt.entity';
import { failureOutcome, type JobOutcome } from '../jobs/job-outcome';
import { ClaimedJob, JobsService } from '../jobs/jobs.service';
import type { LegRunner } from './leg-runner';
import { WorkSignal } from './work-signal';

const INTERVAL_NAME = 'relay-work-tick';
/** Deliveries first (their results are known), then cancellation notices (they free the LLM), then forwards. */
const LEG_ORDER: readonly AttemptLeg[] = ['delivery', 'cancel', 'forward'];

/**
 * Only ticks: claim due work up to the concurrency budget and start each attempt without waiting for it; on the
 * interval, also expire overdue callbacks. Ticks never overlap; kicks coalesce: those of one burst (500 intakes)
 * share a tick, and a kick during a tick runs one more right after. Work is found in the database every time, so a
 * restart (or another replica) picks up whatever a dead process left. The legs register themselves (LegRunner).
 */
@Injectable()
export class WorkScheduler implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(WorkScheduler.name);
  private runners: LegRunner[] = [];
  /** Attempts running now, by job id. */
  private readonly inFlight = new Map<string, { claim: ClaimedJob; done: Promise<void> }>();
  private ticking: Promise<void> | null = null;
  private again = false;
  private expireDue = true;
  private pendingKick: NodeJS.Immediate | null = null;
  /** A kick for when a leg's pause ends. */
  private resumeTimer: NodeJS.Timeout | null = null;
  /** The last tick failed because the database did not answer: said once, not on every tick. */
  private databaseAway = false;
  private readonly context = new AsyncResource('relay-scheduler');
  private readonly timedOut: JobOutcome;

  constructor(
    private readonly jobs: JobsService,
    private readonly signal: WorkSignal,
    private readonly registry: SchedulerRegistry,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.timedOut = failureOutcome(
      'llm_timeout',
      `The LLM did not call back within ${config.llmCallbackTimeoutSeconds} seconds`,
    );
    signal.listen(() => this.kick());
  }

  /** A leg's module hands its runner over at start; a leg without a runner (e.g. no LLM_CANCEL_PATH) costs no claim. */
  register(runner: LegRunner): void {
    this.runners = [...this.runners.filter((known) => known.leg !== runner.leg), runner].sort(
      (a, b) => LEG_ORDER.indexOf(a.leg) - LEG_ORDER.indexOf(b.leg),
    );
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

  /**
   * Look for due work now instead of at the next tick. The tick starts once the current I/O callbacks have run, so
   * every kick of one burst is served by the same tick.
   */
  private kick(): void {
    if (this.signal.isDraining || this.pendingKick) return;
    this.pendingKick = setImmediate(() => {
      this.pendingKick = null;
      this.startTick();
    });
  }

  private startTick(): void {
    if (this.signal.isDraining) return;
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
    this.logger.warn(
      `the database does not answer (${error.message}): trying again every ${this.config.schedulerIntervalMs} ms`,
    );
  }

  /** Resolves when no tick is pending or running and every attempt it started has finished; for tests and shutdown. */
  async settled(): Promise<void> {
    while (this.pendingKick || this.ticking || this.inFlight.size > 0) {
      if (this.pendingKick) await new Promise((resolve) => setImmediate(resolve));
      await Promise.all([this.ticking, ...[...this.inFlight.values()].map((attempt) => attempt.done)]);
    }
  }

  private async tick(): Promise<void> {
    if (this.expireDue) {
      this.expireDue = false;
      await this.jobs.expireCallbacks(this.timedOut, this.config.llmCallbackTimeoutRetries);
    }
    const leaseMs = this.config.outboundTimeoutMs + this.config.leaseMarginMs;
    for (const runner of this.runners) {
      const budget = this.config.workerConcurrency - this.inFlight.size;
      if (budget <= 0 || this.signal.isDraining) return;
      if (this.paused(runner)) continue;
      const claims = await this.jobs.claimDue(
        runner.leg,
        budget,
        leaseMs,
        runner.maxInFlight ?? 0,
        runner.claimServers?.(),
      );
      for (const claim of claims) this.launch(runner, claim);
    }
  }

  /** While a leg is paused (the LLM asked for it), its claims wait; a kick is set for when the pause ends. */
  private paused(runner: LegRunner): boolean {
    const remaining = runner.pausedForMs?.() ?? 0;
    if (remaining === 0) return false;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = null;
      this.kick();
    }, remaining + 1);
    this.resumeTimer.unref();
    return true;
  }

  private launch(runner: LegRunner, claim: ClaimedJob): void {
    const tracked = runner
      .attempt(claim)
      .then(() => undefined)
      .catch((error: Error) =>
        this.logger.error(`${runner.leg} attempt for ${claim.job.id} failed: ${error.message}`, error.stack),
      )
      .finally(() => {
        this.inFlight.delete(claim.job.id);
        this.kick();
      });
    this.inFlight.set(claim.job.id, { claim, done: tracked });
  }

  /** SIGTERM: claim nothing new, give running attempts a bounded time, hand back the leases of the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    this.signal.beginDrain();
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    if (this.registry.doesExist('interval', INTERVAL_NAME)) this.registry.deleteInterval(INTERVAL_NAME);
    await this.ticking;
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.config.shutdownGraceMs).unref());
    if (this.pendingKick) clearImmediate(this.pendingKick);
    await Promise.race([Promise.all([...this.inFlight.values()].map((attempt) => attempt.done)), grace]);
    const unfinished = [...this.inFlight.values()].map((attempt) => attempt.claim);
    try {
      if (unfinished.length > 0) {
        this.logger.warn(`releasing ${unfinished.length} unfinished attempt(s) on shutdown`);
        await this.jobs.releaseAll(unfinished);
      }
    } finally {
      // Also when the release failed (the database away at SIGTERM): the attempts must not run to their deadlines.
      for (const runner of this.runners) runner.cutOff?.();
    }
  }

  /**
   * The attempts that outlived the grace period were cut off by their legs (cutOff, right after the drain above).
   * Each still makes its last, fenced write: it lands before the DataSource closes, since Nest closes the database
   * module (imported by this one) after this one.
   */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.inFlight.values()].map((attempt) => attempt.done));
  }
}
