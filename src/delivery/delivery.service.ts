import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { AttemptOutcome } from '../jobs/attempt.entity';
import { JobTimelineService } from '../jobs/job-timeline.service';
import { ClaimedJob, JobsService } from '../jobs/jobs.service';
import { attemptRecord, describeAttempt, judgeDelivery } from './attempt-result';
import { OutboundResponse } from './outbound-http';
import { nextRetry, parseRetryAfter } from './retry-policy';
import { WebhookClient } from './webhook.client';

/** The delivery leg: one attempt to post a claimed job's result to its webhook. */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly jobs: JobsService,
    private readonly timeline: JobTimelineService,
    private readonly webhook: WebhookClient,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  async attemptDelivery(claim: ClaimedJob): Promise<void> {
    const startedAt = Date.now();
    const response = await this.webhook.deliver(claim.job);
    const outcome = await this.settle(claim, response);
    const record = attemptRecord('delivery', claim, redactQuery(claim.job.webhookUrl), response, outcome, startedAt);
    await this.timeline.recordAttempt(record);
    this.logger.log(describeAttempt(record));
  }

  private async settle(claim: ClaimedJob, response: OutboundResponse): Promise<AttemptOutcome> {
    const verdict = judgeDelivery(response);
    if (verdict === 'success') return (await this.jobs.markDelivered(claim)) ? 'success' : 'stale';
    if (verdict === 'retryable') {
      const decision = nextRetry(
        claim.attemptNo,
        this.config.delivery,
        parseRetryAfter(response.retryAfter),
        this.config.retryAfterMaxSeconds,
      );
      if (decision.retry) return (await this.jobs.scheduleRetry(claim, decision.delayMs)) ? 'retry' : 'stale';
    }
    return (await this.jobs.markDeliveryFailed(claim)) ? 'failed' : 'stale';
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
