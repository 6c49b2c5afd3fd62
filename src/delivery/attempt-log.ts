import { Injectable, Logger } from '@nestjs/common';
import { JobTimelineService, NewAttempt } from '../jobs/job-timeline.service';
import type { ClaimedJob } from '../jobs/jobs.service';
import { RelayMetrics } from '../metrics/relay-metrics';
import { describeAttempt } from './attempt-result';

/** Where a finished attempt goes: the job's timeline, one log line, the attempt metrics. */
@Injectable()
export class AttemptLog {
  private readonly logger = new Logger('Attempts');

  constructor(
    private readonly timeline: JobTimelineService,
    private readonly metrics: RelayMetrics,
  ) {}

  async record(attempt: NewAttempt): Promise<void> {
    await this.timeline.recordAttempt(attempt);
    this.metrics.attemptFinished(attempt);
    this.logger.log(describeAttempt(attempt));
  }

  /**
   * A successful delivery: how long it took from the outcome being known. First rounds only: a redelivery starts
   * whenever an operator asks, so timing it from the outcome would measure the operator, not the relay.
   */
  delivered(claim: ClaimedJob): void {
    if (claim.round === 1 && claim.job.outcomeAt !== null) this.metrics.delivered((Date.now() - claim.job.outcomeAt) / 1000);
  }
}
