import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { retryWhileUnavailable } from '../database/database-outage';
import type { AttemptOutcome } from '../jobs/attempt.entity';
import { hashCallbackToken, newCallbackToken } from '../jobs/callback-token';
import { failureOutcome } from '../jobs/job-outcome';
import { ClaimedJob, JobsService } from '../jobs/jobs.service';
import { AttemptLogService } from '../scheduler/attempt-log.service';
import { attemptRecord, judgeLlmAnswer, retryAfterFailure } from '../scheduler/attempt-result';
import type { LegRunner } from '../scheduler/leg-runner';
import type { OutboundResponse } from '../scheduler/outbound-http';
import { LlmServerClient } from './llm-server.client';

/** The forward leg: one attempt to hand a claimed job to the LLM server. */
@Injectable()
export class ForwardService implements LegRunner {
  readonly leg = 'forward';
  readonly maxInFlight: number;

  constructor(
    private readonly jobs: JobsService,
    private readonly attempts: AttemptLogService,
    private readonly llm: LlmServerClient,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.maxInFlight = config.llmMaxInFlight;
  }

  /** While the LLM asked for a pause (429 / 503, see LlmPace), forwards wait. */
  pausedForMs(): number {
    return this.llm.pace.remainingMs();
  }

  cutOff(): void {
    this.llm.cutOff();
  }

  /**
   * Returns true when the job moved on to delivery (so a delivery attempt is due now). Once the LLM has answered,
   * the outcome's write waits out a database outage (within the lease) so the job is not forwarded twice.
   */
  async attempt(claim: ClaimedJob): Promise<boolean> {
    const token = newCallbackToken();
    // The hash is stored before the request leaves, so a callback that beats the LLM's answer is recognised.
    if (!(await this.jobs.addCallbackToken(claim, hashCallbackToken(token)))) return false;
    const startedAt = Date.now();
    const response = await this.llm.forward(claim.job, token);
    const { outcome, movedToDelivery } = await retryWhileUnavailable(
      () => this.settle(claim, response),
      claim.leaseDeadline,
    );
    const record = attemptRecord('forward', claim, this.llm.target(), response, outcome, startedAt);
    await retryWhileUnavailable(() => this.attempts.record(record), claim.leaseDeadline);
    return movedToDelivery;
  }

  private async settle(
    claim: ClaimedJob,
    response: OutboundResponse,
  ): Promise<{ outcome: AttemptOutcome; movedToDelivery: boolean }> {
    const verdict = judgeLlmAnswer(response);
    if (verdict === 'success') {
      // False here usually means the callback already arrived and moved the job on: nothing is lost.
      await this.jobs.markProcessing(claim, this.config.llmCallbackTimeoutSeconds * 1000);
      return { outcome: 'success', movedToDelivery: false };
    }
    if (verdict === 'retryable') {
      const decision = retryAfterFailure(claim, response, this.config.forward, this.config.retryAfterMaxSeconds);
      if (decision.retry) {
        const scheduled = await this.jobs.scheduleRetry(claim, decision.delayMs);
        return { outcome: scheduled ? 'retry' : 'stale', movedToDelivery: false };
      }
    }
    const reason = response.statusCode !== null ? `HTTP ${response.statusCode}` : (response.error ?? 'no answer');
    const failed = await this.jobs.failForward(
      claim,
      failureOutcome(
        'forward_failed',
        `The LLM server did not accept the job after ${claim.attemptNo} attempt(s): ${reason}`,
      ),
    );
    return { outcome: failed ? 'failed' : 'stale', movedToDelivery: failed };
  }
}
