import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';
import { EventLoopLoad } from '../metrics/event-loop-load';
import { RelayMetrics } from '../metrics/relay-metrics';

/** How long a count of the backlog is trusted: intake at thousands per second must not count on every request. */
const COUNT_TTL_MS = 500;
export const BACKLOG_RETRY_AFTER_SECONDS = 2;
export const OVERLOADED_RETRY_AFTER_SECONDS = 1;
/** One row kept by triggers (see the HistoryScale migration): no count of the backlog itself. */
const QUEUED_SQL = "SELECT job_count AS queued FROM job_status_counts WHERE status = 'queued'";

export class IntakeBacklogFullError extends DomainError {
  constructor(limit: number) {
    super(503, 'backlog_full', `The relay has ${limit} or more jobs waiting to be forwarded (INTAKE_MAX_BACKLOG); retry later`);
  }
}

export class IntakeOverloadedError extends DomainError {
  constructor(limitMs: number) {
    super(503, 'overloaded', `The relay's event loop runs more than ${limitMs} ms late (INTAKE_MAX_EVENT_LOOP_DELAY_MS); retry later`);
  }
}

/**
 * Graceful overload, in two independent limits, both off by default.
 *
 * - INTAKE_MAX_EVENT_LOOP_DELAY_MS: while the event loop runs later than that (p99 over the last half second),
 *   intake answers 503 `overloaded` at once, before any database work, so that the process's one thread stays free
 *   for the LLM's callbacks and the deliveries of work already accepted. Read from a figure kept by a timer: no
 *   cost per request.
 * - INTAKE_MAX_BACKLOG jobs waiting for their forward, intake answers 503 with Retry-After
 * instead of accepting work it cannot move, so the work already accepted keeps its pace. The count is one row of
 * job_status_counts, read at most once per COUNT_TTL_MS for all requests.
 */
@Injectable()
export class IntakeAdmissionGuard implements CanActivate {
  private counted: { at: number; queued: number } = { at: 0, queued: 0 };
  private counting: Promise<number> | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
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
    this.counting ??= this.dataSource
      .query(QUEUED_SQL)
      .then((rows: { queued: string | number }[]) => {
        this.counted = { at: Date.now(), queued: Number(rows[0]?.queued ?? 0) };
        return this.counted.queued;
      })
      .finally(() => (this.counting = null));
    return this.counting;
  }
}
