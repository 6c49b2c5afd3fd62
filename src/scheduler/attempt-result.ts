import type { AttemptLeg, AttemptOutcome } from '../jobs/attempt.entity';
import type { NewAttempt } from '../jobs/attempts.repository';
import type { ClaimedJob } from '../jobs/claimed-job';
import type { RetrySettings } from '../config/config';
import { BLOCKED, type OutboundResponse } from './outbound-http';
import { nextRetry, parseRetryAfter, type RetryDecision } from './retry-policy';

/** What one outbound attempt came to, before the retry policy has its say. */
export type AttemptVerdict = 'success' | 'retryable' | 'permanent';

/**
 * The LLM server's answer, on the forward and the cancel legs alike: retried on network errors, 408, 429 and 5xx;
 * any other answer is final.
 */
export function judgeLlmAnswer(response: OutboundResponse): AttemptVerdict {
  const status = response.statusCode;
  if (status === null) return response.error === BLOCKED ? 'permanent' : 'retryable';
  if (status >= 200 && status < 300) return 'success';
  if (status === 408 || status === 429 || status >= 500) return 'retryable';
  return 'permanent';
}

/**
 * Delivery leg: only 2xx succeeds; 410 means the receiver wants no more; 3xx is a failure and never followed.
 * Everything else is worth another try, since receivers' errors are mostly passing.
 */
export function judgeDelivery(response: OutboundResponse): AttemptVerdict {
  const status = response.statusCode;
  if (status === null) return response.error === BLOCKED ? 'permanent' : 'retryable';
  if (status >= 200 && status < 300) return 'success';
  if (status === 410) return 'permanent';
  return 'retryable';
}

/** The timeline row of one finished attempt. */
export function attemptRecord(
  leg: AttemptLeg,
  claim: ClaimedJob,
  target: string,
  response: OutboundResponse,
  outcome: AttemptOutcome,
  startedAt: number,
  llmServer: string | null = null,
): NewAttempt {
  return {
    llmServer,
    jobId: claim.job.id,
    clientId: claim.job.clientId,
    leg,
    attemptNo: claim.attemptNo,
    round: claim.round,
    target,
    statusCode: response.statusCode,
    outcome,
    error: response.error,
    durationMs: response.durationMs,
    startedAt,
  };
}

/** One log line per attempt; carries no URL, token or body. */
export function describeAttempt(record: NewAttempt): string {
  const round =
    (record.round === null ? '' : ` round=${record.round}`) + (record.llmServer ? ` server=${record.llmServer}` : '');
  const error = record.error ? ` error="${record.error}"` : '';
  return `${record.leg} job=${record.jobId} attempt=${record.attemptNo} status=${record.statusCode ?? '-'} outcome=${record.outcome} ms=${record.durationMs}${round}${error}`;
}

/** The retry policy applied to a failed attempt of any leg, honouring the answer's Retry-After; per round. */
export function retryAfterFailure(
  claim: ClaimedJob,
  response: OutboundResponse,
  policy: RetrySettings,
  retryAfterMaxSeconds: number,
): RetryDecision {
  return nextRetry(claim.attemptInRound, policy, parseRetryAfter(response.retryAfter), retryAfterMaxSeconds);
}
