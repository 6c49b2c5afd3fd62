import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { retryWhileUnavailable } from '../database/database-outage';
import type { AttemptOutcome } from '../jobs/attempt.entity';
import { ClaimedJob, JobsService } from '../jobs/jobs.service';
import { AttemptLogService } from '../scheduler/attempt-log.service';
import { attemptRecord, retryAfterFailure, judgeDelivery } from '../scheduler/attempt-result';
import type { LegRunner } from '../scheduler/leg-runner';
import type { OutboundResponse } from '../scheduler/outbound-http';
import { WebhookClient } from './webhook.client';

/** The delivery leg: one attempt to post a claimed job's result to its webhook. */
@Injectable()
export class DeliveryService implements LegRunner {
  readonly leg = 'delivery';

  constructor(
    private readonly jobs: JobsService,
    private readonly attempts: AttemptLogService,
    private readonly webhook: WebhookClient,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  /**
   * The receiver may have acknowledged the delivery already: if the database is away just then, the outcome's write
   * waits for it (within the lease) rather than leaving the lease to run out and the delivery to be made again.
   */
  async attempt(claim: ClaimedJob): Promise<void> {
    const startedAt = Date.now();
    const response = await this.webhook.deliver(claim.job);
    const outcome = await retryWhileUnavailable(() => this.settle(claim, response), claim.leaseDeadline);
    const record = attemptRecord('delivery', claim, redactQuery(claim.job.webhookUrl), response, outcome, startedAt);
    await retryWhileUnavailable(() => this.attempts.record(record), claim.leaseDeadline);
  }

  cutOff(): void {
    this.webhook.cutOff();
  }

  private async settle(claim: ClaimedJob, response: OutboundResponse): Promise<AttemptOutcome> {
    const verdict = judgeDelivery(response);
    if (verdict === 'success') {
      if (!(await this.jobs.markDelivered(claim))) return 'stale';
      this.attempts.delivered(claim);
      return 'success';
    }
    if (verdict === 'retryable') {
      const decision = retryAfterFailure(claim, response, this.config.delivery, this.config.retryAfterMaxSeconds);
      if (decision.retry) return (await this.jobs.scheduleRetry(claim, decision.delayMs)) ? 'retry' : 'stale';
    }
    if (!(await this.jobs.markDeliveryFailed(claim))) return 'stale';
    this.attempts.deliveryFailed();
    return 'failed';
  }
}

/** Webhook URLs may carry the receiver's own secret in the query: keep it out of timelines and logs. */
export function redactQuery(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.search) parsed.search = '?redacted';
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
