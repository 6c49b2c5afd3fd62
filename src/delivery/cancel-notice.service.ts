import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { retryWhileUnavailable } from '../database/database-outage';
import { AttemptOutcome } from '../jobs/attempt.entity';
import { ClaimedJob, JobsService } from '../jobs/jobs.service';
import { AttemptLog } from './attempt-log';
import { attemptRecord, judgeForward, retryAfterFailure } from './attempt-result';
import { LlmServerClient } from './llm-server.client';
import { OutboundResponse } from './outbound-http';

/**
 * The cancel leg: tells the LLM (LLM_CANCEL_PATH) that a job it may be working on was cancelled, so it can stop
 * spending GPU time on it. Best effort, retried with the forward's policy; any final answer (2xx, or a 4xx such as
 * 404 for a job the LLM never saw) ends it. Each attempt is in the job's timeline.
 */
@Injectable()
export class CancelNoticeService {
  constructor(
    private readonly jobs: JobsService,
    private readonly attempts: AttemptLog,
    private readonly llm: LlmServerClient,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  async attemptNotice(claim: ClaimedJob): Promise<void> {
    // The scheduler claims this leg only when LLM_CANCEL_PATH is set.
    const target = this.llm.cancelTarget(claim.job.id);
    if (target === null) throw new Error('a cancel notice was claimed without LLM_CANCEL_PATH');
    const startedAt = Date.now();
    const response = await this.llm.cancel(claim.job, target);
    const outcome = await retryWhileUnavailable(() => this.settle(claim, response), claim.leaseDeadline);
    const record = attemptRecord('cancel', claim, target, response, outcome, startedAt);
    await retryWhileUnavailable(() => this.attempts.record(record), claim.leaseDeadline);
  }

  private async settle(claim: ClaimedJob, response: OutboundResponse): Promise<AttemptOutcome> {
    const verdict = judgeForward(response);
    if (verdict === 'retryable') {
      const decision = retryAfterFailure(claim, response, this.config.forward, this.config.retryAfterMaxSeconds);
      if (decision.retry) return (await this.jobs.scheduleRetry(claim, decision.delayMs)) ? 'retry' : 'stale';
    }
    if (!(await this.jobs.cancelNoticeDone(claim))) return 'stale';
    return verdict === 'success' ? 'success' : 'failed';
  }
}
