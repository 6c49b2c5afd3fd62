import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { retryWhileUnavailable } from '../database/database-outage';
import type { AttemptOutcome } from '../jobs/attempt.entity';
import { hashCallbackToken, newCallbackToken } from '../jobs/callback-token';
import { failureOutcome } from '../jobs/job-outcome';
import { ClaimedJob, JobsService } from '../jobs/jobs.service';
import type { ServerSlot } from '../jobs/server-routing';
import { AttemptLogService } from '../scheduler/attempt-log.service';
import { attemptRecord, judgeLlmAnswer, retryAfterFailure } from '../scheduler/attempt-result';
import type { LegRunner } from '../scheduler/leg-runner';
import type { OutboundResponse } from '../scheduler/outbound-http';
import { LlmFleet } from './llm-fleet';
import { LlmServerClient } from './llm-server.client';
import type { ServerState } from './server-state';

/**
 * The forward leg: one attempt to hand a claimed job to an LLM server. The claim chose the server (ClaimsRepository,
 * with more than one, or with capacities); a retryable failure there is tried at once on another available server
 * with room (failover, a new attempt of the same claim), and the job waits out FORWARD_BACKOFF_SECONDS only when no
 * other server is left to try.
 */
@Injectable()
export class ForwardService implements LegRunner {
  readonly leg = 'forward';
  readonly maxInFlight: number;
  private readonly leaseMs: number;
  private readonly fleet: LlmFleet;

  constructor(
    private readonly jobs: JobsService,
    private readonly attempts: AttemptLogService,
    private readonly llm: LlmServerClient,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.fleet = llm.fleet;
    this.maxInFlight = config.llmMaxInFlight;
    this.leaseMs = config.outboundTimeoutMs + config.leaseMarginMs;
  }

  /** While no server may take a forward (paused, circuit open, unhealthy), forwards wait. */
  pausedForMs(): number {
    return this.fleet.waitMs();
  }

  /** The servers a claim may route to now; a half-open server takes one forward, its probe. */
  claimServers(): ServerSlot[] {
    return this.fleet.available().map((server) => slotOf(server));
  }

  cutOff(): void {
    this.llm.cutOff();
  }

  /**
   * Returns true when the job moved on to delivery (so a delivery attempt is due now). Once the LLM has answered,
   * the outcome's write waits out a database outage (within the lease) so the job is not forwarded twice.
   */
  async attempt(claim: ClaimedJob): Promise<boolean> {
    const tried = new Set<string>();
    let server = this.serverOf(claim);
    for (;;) {
      const token = newCallbackToken();
      // The hash is stored before the request leaves, so a callback that beats the LLM's answer is recognised.
      if (!(await this.jobs.addCallbackToken(claim, hashCallbackToken(token), server.name))) return false;
      const startedAt = Date.now();
      const response = await this.llm.forward(claim.job, token, server);
      const verdict = judgeLlmAnswer(response);
      server.observe(response, verdict === 'retryable');
      this.fleet.recordForward(
        server,
        verdict === 'success' ? 'accepted' : verdict === 'retryable' ? 'retryable' : 'failed',
        response.durationMs,
      );
      tried.add(server.name);
      const next = verdict === 'retryable' ? await this.failover(claim, tried) : null;
      const record = (attempt: ClaimedJob, outcome: AttemptOutcome) => {
        const row = attemptRecord(
          'forward',
          attempt,
          this.llm.target(server),
          response,
          outcome,
          startedAt,
          server.name,
        );
        return retryWhileUnavailable(() => this.attempts.record(row), claim.leaseDeadline);
      };
      if (next === 'full') {
        // The other servers are up but full: not a failure of theirs. The job waits for the next free slot.
        const requeued = await retryWhileUnavailable(() => this.jobs.scheduleRetry(claim, 0), claim.leaseDeadline);
        await record(claim, requeued ? 'retry' : 'stale');
        return false;
      }
      if (next) {
        await record(next.failed, 'retry');
        server = next.server;
        continue;
      }
      const { outcome, movedToDelivery } = await retryWhileUnavailable(
        () => this.settle(claim, response),
        claim.leaseDeadline,
      );
      await record(claim, outcome);
      return movedToDelivery;
    }
  }

  /** The server the claim chose; without a choice (one server, no capacities) the first available one. */
  private serverOf(claim: ClaimedJob): ServerState {
    return this.fleet.server(claim.job.llmServer) ?? this.fleet.available()[0] ?? this.fleet.servers[0];
  }

  /**
   * Another available server not yet tried in this attempt, with room and retries left: the claim moves there as a
   * new attempt. Returns the failed attempt's claim (for its timeline row) and the next server; `full` when the
   * others are available but at capacity; null when none is left to try.
   */
  private async failover(
    claim: ClaimedJob,
    tried: ReadonlySet<string>,
  ): Promise<{ failed: ClaimedJob; server: ServerState } | 'full' | null> {
    if (claim.attemptInRound > this.config.forward.maxRetries) return null;
    const candidates = this.fleet.available().filter((server) => !tried.has(server.name));
    if (candidates.length === 0) return null;
    const failed = { ...claim };
    const moved = await this.jobs.moveForward(claim, candidates.map(slotOf), this.leaseMs);
    if (moved === 'full') return 'full';
    const server = this.fleet.server(moved?.to ?? null);
    return server ? { failed, server } : null;
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

function slotOf(server: ServerState): ServerSlot {
  const { name, maxInFlight, weight } = server.config;
  return { name, maxInFlight, weight, batchLimit: server.state() === 'half-open' ? 1 : undefined };
}
