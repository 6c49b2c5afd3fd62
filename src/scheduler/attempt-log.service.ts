import { Injectable, Logger } from '@nestjs/common';
import { AttemptsRepository, type NewAttempt } from '../jobs/attempts.repository';
import type { ClaimedJob } from '../jobs/claimed-job';
import { RelayMetrics } from '../metrics/relay-metrics';
import { describeAttempt } from './attempt-result';

/** Where a finished attempt goes: the job's timeline, one log line, the attempt metrics. */
@Injectable()
export class AttemptLogService {
  private readonly logger = new Logger('Attempts');

  constructor(
    private readonly attempts: AttemptsRepository,
    private readonly metrics: RelayMetrics,
  ) {}

  async record(attempt: NewAttempt): Promise<void> {
    await this.attempts.record(attempt);
    this.metrics.attemptFinished(attempt);
    this.logger.log(describeAttempt(attempt));
  }

  /**
   * A successful delivery: how long it took from the outcome being known. First rounds only: a redelivery starts
   * whenever an operator asks, so timing it from the outcome would measure the operator, not the relay.
   */
  delivered(claim: ClaimedJob): void {
    if (claim.round === 1 && claim.job.outcomeAt !== null)
      this.metrics.delivered((Date.now() - claim.job.outcomeAt) / 1000);
  }

  /** A job entered delivery_failed (JobsService.markDeliveryFailed returned true): counted once, here. */
  deliveryFailed(): void {
    this.metrics.deliveryFailed();
  }
}
