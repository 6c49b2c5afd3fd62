import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Caller } from '../clients/caller';
import { ClientRateLimitedError, IntakeBacklogFullError, IntakeOverloadedError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';
import { JobLoadRepository } from '../jobs/job-load.repository';
import { EventLoopLoad } from '../metrics/event-loop-load';
import { RelayMetrics } from '../metrics/relay-metrics';
import { ClientIntakeLimits } from './client-intake-limits';

/** How long a count of the backlog is trusted: intake at thousands per second must not count on every request. */
const COUNT_TTL_MS = 500;
export const BACKLOG_RETRY_AFTER_SECONDS = 2;
export const OVERLOADED_RETRY_AFTER_SECONDS = 1;

/**
 * Graceful overload, in two independent limits, both off by default.
 *
 * - INTAKE_MAX_EVENT_LOOP_DELAY_MS: while the event loop runs later than that (p99 over the last half second),
 *   intake answers 503 `overloaded` at once, before any database work, so that the process's one thread stays free
 *   for the LLM's callbacks and the deliveries of work already accepted. Read from a figure kept by a timer: no
 *   cost per request.
 * - INTAKE_MAX_BACKLOG jobs waiting for their forward, intake answers 503 with Retry-After
 * instead of accepting work it cannot move, so the work already accepted keeps its pace. The count is one counter
 * row (JobLoadRepository.queued), read at most once per COUNT_TTL_MS for all requests.
 *
 * Then the submitting client's own limits (ClientIntakeLimits): its `intake_rate_limit` (429 `rate_limited`) and its
 * `max_backlog` (503 `backlog_full`), both with Retry-After; other clients are not affected.
 */
@Injectable()
export class IntakeAdmissionGuard implements CanActivate {
  private counted: { at: number; queued: number } = { at: 0, queued: 0 };
  private counting: Promise<number> | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    private readonly load: JobLoadRepository,
    private readonly metrics: RelayMetrics,
    private readonly eventLoop: EventLoopLoad,
    private readonly clientLimits: ClientIntakeLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const response = context.switchToHttp().getResponse<Response>();
    const delayLimit = this.config.intakeMaxEventLoopDelayMs;
    if (delayLimit > 0 && this.eventLoop.delayMs > delayLimit) {
      this.metrics.intakeRejected('overloaded');
      response.setHeader('Retry-After', String(OVERLOADED_RETRY_AFTER_SECONDS));
      throw new IntakeOverloadedError(delayLimit);
    }
    const limit = this.config.intakeMaxBacklog;
    if (limit > 0 && (await this.queued()) >= limit) {
      this.metrics.intakeRejected('backlog_full');
      response.setHeader('Retry-After', String(BACKLOG_RETRY_AFTER_SECONDS));
      throw new IntakeBacklogFullError(limit);
    }
    const client = submitting(context.switchToHttp().getRequest<Request & { caller?: Caller }>().caller);
    if (!client) return true;
    const refusal = await this.clientLimits.check(
      client,
      this.config.intakeRateWindowSeconds * 1000,
      BACKLOG_RETRY_AFTER_SECONDS,
    );
    if (!refusal) return true;
    this.metrics.intakeRejected(refusal.code);
    response.setHeader('Retry-After', String(refusal.retryAfterSeconds));
    throw refusal.code === 'backlog_full'
      ? new IntakeBacklogFullError(client.maxBacklog, client.id)
      : new ClientRateLimitedError(client.id, client.intakeRateLimit, this.config.intakeRateWindowSeconds);
  }

  private async queued(): Promise<number> {
    if (Date.now() - this.counted.at < COUNT_TTL_MS) return this.counted.queued;
    this.counting ??= this.load
      .queued()
      .then((queued) => {
        this.counted = { at: Date.now(), queued };
        return this.counted.queued;
      })
      .finally(() => (this.counting = null));
    return this.counting;
  }
}

/** The client a submission would belong to (an admin key is refused by the handler itself). */
function submitting(caller: Caller | undefined) {
  if (!caller) return null;
  if (caller.role === 'client') return caller.client;
  return caller.open ? caller.defaultClient : null;
}
