import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { retryWhileUnavailable } from '../database/database-outage';
import type { AttemptOutcome } from '../jobs/attempt.entity';
import type { Job } from '../jobs/job.entity';
import { ClaimedJob, JobsService } from '../jobs/jobs.service';
import { AttemptLogService } from '../scheduler/attempt-log.service';
import { attemptRecord, judgeLlmAnswer, retryAfterFailure } from '../scheduler/attempt-result';
import type { LegRunner } from '../scheduler/leg-runner';
import type { OutboundResponse } from '../scheduler/outbound-http';
import { LlmServerClient } from './llm-server.client';

/**
 * The cancel leg: tells the LLM (LLM_CANCEL_PATH) that a job it may be working on was cancelled, so it can stop
 * spending GPU time on it. Best effort, retried with the forward's policy; any final answer (2xx, or a 4xx such as
 * 404 for a job the LLM never saw) ends it. Each attempt is in the job's timeline. Without LLM_CANCEL_PATH no notice
 * is ever due, and the leg is not run at all (llm-server.module.ts).
 */
@Injectable()
export class CancelNoticeService implements LegRunner {
  readonly leg = 'cancel';
  /** The one place that knows whether the LLM takes cancel notices. */
  readonly enabled: boolean;

  constructor(
    private readonly jobs: JobsService,
    private readonly attempts: AttemptLogService,
    private readonly llm: LlmServerClient,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.enabled = config.llmCancelPath !== null;
  }

  /**
   * Whether a job being cancelled needs a notice: the LLM takes them, and may hold the job (forwarded, being
   * forwarded, or refused with an answer that may hide an accepted job).
   */
  noticeDue(job: Job): boolean {
    if (!this.enabled) return false;
    return job.status === 'processing' || (job.status === 'queued' && job.forwardAttempts > 0);
  }

  cutOff(): void {
    this.llm.cutOff();
  }

  async attempt(claim: ClaimedJob): Promise<void> {
    const target = this.llm.cancelTarget(claim.job.id);
    const startedAt = Date.now();
    const response = await this.llm.cancel(claim.job, target);
    const outcome = await retryWhileUnavailable(() => this.settle(claim, response), claim.leaseDeadline);
    const record = attemptRecord('cancel', claim, target, response, outcome, startedAt);
    await retryWhileUnavailable(() => this.attempts.record(record), claim.leaseDeadline);
  }

  private async settle(claim: ClaimedJob, response: OutboundResponse): Promise<AttemptOutcome> {
    const verdict = judgeLlmAnswer(response);
    if (verdict === 'retryable') {
      const decision = retryAfterFailure(claim, response, this.config.forward, this.config.retryAfterMaxSeconds);
      if (decision.retry) return (await this.jobs.scheduleRetry(claim, decision.delayMs)) ? 'retry' : 'stale';
    }
    if (!(await this.jobs.cancelNoticeDone(claim))) return 'stale';
    return verdict === 'success' ? 'success' : 'failed';
  }
}
