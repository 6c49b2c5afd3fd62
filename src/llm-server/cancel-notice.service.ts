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
import { AttemptsRepository } from '../jobs/attempts.repository';
import { LlmFleet } from './llm-fleet';
import { LlmServerClient } from './llm-server.client';
import type { ServerState } from './server-state';

/**
 * The cancel leg: tells the LLM servers that may hold a cancelled job (the one of its latest forward, and every
 * other a forward of it reached without being refused) at their cancel path, so they can stop spending GPU time on it. Best effort, retried with the
 * forward's policy while any of them answers retryably; final answers (2xx, or a 4xx such as 404 for a job a server
 * never saw) end it. Each notice is in the job's timeline, naming its server. Without a cancel path on any server no
 * notice is ever due, and the leg is not run at all (llm-server.module.ts).
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
    private readonly fleet: LlmFleet,
    private readonly history: AttemptsRepository,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.enabled = config.llmServers.some((server) => server.cancelPath !== null);
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
    const notices = (await this.serversHolding(claim.job))
      .map((server) => ({ server, target: this.llm.cancelTarget(server, claim.job.id) }))
      .filter((notice): notice is { server: ServerState; target: string } => notice.target !== null);
    const startedAt = Date.now();
    const responses = await Promise.all(
      notices.map((notice) => this.llm.cancel(claim.job, notice.server, notice.target)),
    );
    const retryable = responses.find((response) => judgeLlmAnswer(response) === 'retryable');
    const outcome = await retryWhileUnavailable(() => this.settle(claim, retryable, responses), claim.leaseDeadline);
    for (const [index, { server, target }] of notices.entries()) {
      const own = judgeLlmAnswer(responses[index]);
      const each: AttemptOutcome =
        outcome === 'stale' ? 'stale' : own === 'success' ? 'success' : own === 'retryable' ? outcome : 'failed';
      const record = attemptRecord('cancel', claim, target, responses[index], each, startedAt, server.name);
      await retryWhileUnavailable(() => this.attempts.record(record), claim.leaseDeadline);
    }
  }

  /** The server of its latest forward, and every other server a forward of it reached unrefused (it may hold it). */
  private async serversHolding(job: Job): Promise<ServerState[]> {
    const names = new Set(await this.history.forwardServers(job.id));
    if (job.llmServer) names.add(job.llmServer);
    return [...names].flatMap((name) => this.fleet.server(name) ?? []);
  }

  private async settle(
    claim: ClaimedJob,
    retryable: OutboundResponse | undefined,
    responses: OutboundResponse[],
  ): Promise<AttemptOutcome> {
    if (retryable) {
      const decision = retryAfterFailure(claim, retryable, this.config.forward, this.config.retryAfterMaxSeconds);
      if (decision.retry) return (await this.jobs.scheduleRetry(claim, decision.delayMs)) ? 'retry' : 'stale';
    }
    if (!(await this.jobs.cancelNoticeDone(claim))) return 'stale';
    return responses.length > 0 && responses.every((response) => judgeLlmAnswer(response) === 'success')
      ? 'success'
      : 'failed';
  }
}
