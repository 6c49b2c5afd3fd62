import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { IntakeBacklogFullError, IntakeOverloadedError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';
import { JobLoadRepository } from '../jobs/job-load.repository';
import { EventLoopLoad } from '../metrics/event-loop-load';
import { RelayMetrics } from '../metrics/relay-metrics';

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
    if (limit === 0 || (await this.queued()) < limit) return true;
    this.metrics.intakeRejected('backlog_full');
    response.setHeader('Retry-After', String(BACKLOG_RETRY_AFTER_SECONDS));
    throw new IntakeBacklogFullError(limit);
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
