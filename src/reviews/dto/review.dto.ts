import { ApiProperty } from '@nestjs/swagger';
import { ApiAnyJson } from '../../common/openapi-schema';
import { Attempt } from '../../jobs/attempt.entity';
import { Job } from '../../jobs/job.entity';
import type { JobStatus } from '../../jobs/job-status';
import { PRIORITIES, type Priority, priorityName } from '../../jobs/job-priority';
import { JobErrorDto } from '../../delivery/dto/delivery-payload.dto';
import { webhookIdFor } from '../../delivery/signer';

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export class ReviewAcceptedDto {
  /** @example "job_3f9c2a7be0d14c55a1e6b0c7d8e9f012" */
  job_id: string;
  /** @example "queued" */
  status: JobStatus;

  static from(job: Pick<Job, 'id' | 'status'>): ReviewAcceptedDto {
    return { job_id: job.id, status: job.status };
  }
}

export class DeliverySummaryDto {
  /** `webhook-id` of every delivery of this job: stable across retries, for receivers to dedupe. */
  webhook_id: string;
  /** Delivery attempts in all rounds; attempt numbers count on across rounds. */
  attempts: number;
  /** Delivery rounds: 1 for the first delivery, +1 per redeliver (0 while the outcome is unknown). */
  rounds: number;
  /** HTTP status of the last attempt, or null when none answered. */
  last_status_code: number | null;
  /** Transport error of the last attempt, if any. */
  last_error: string | null;
  last_attempt_at: string | null;
  /** When the next attempt is due, while the job is delivering. */
  next_attempt_at: string | null;
}

export class ProgressDto {
  /** 0 to 1, as the LLM server last reported it; null when it gave none. */
  value: number | null;
  stage: string | null;
  message: string | null;
  /** When the latest heartbeat was recorded. */
  updated_at: string;
  /** Heartbeats received (writes coalesce to one per second; every heartbeat is counted). */
  heartbeats: number;
}

export class ReviewDto {
  job_id: string;
  /** The client (web service) whose key submitted it; `default` for RELAY_API_KEYS. */
  client_id: string;
  submission_id: string;
  student_id: string | null;
  /**
   * queued → processing → delivering → delivered or delivery_failed; cancelled when the web service withdrew the job
   * before its result was delivered.
   */
  status: JobStatus;
  /** The order of its forward among its client's waiting jobs. */
  @ApiProperty({ enum: PRIORITIES })
  priority: Priority;
  /** The LLM server of its latest forward, kept after the job finishes; null before any forward. */
  llm_server: string | null;
  /** The LLM server's latest progress report (POST progress_url); null when it sent none. */
  progress: ProgressDto | null;
  /** Null until the LLM's result (or a failure) is known. */
  ok: boolean | null;
  /** The LLM's result exactly as it sent it (any JSON value); null until known, or when there is none. */
  @ApiAnyJson()
  result: unknown;
  /** Set when ok is false. */
  error: JobErrorDto | null;
  webhook_url: string;
  forward_attempts: number;
  created_at: string;
  updated_at: string;
  /** When the LLM accepted the job. */
  forwarded_at: string | null;
  /** Until when the LLM's callback is awaited. */
  callback_deadline_at: string | null;
  /** When the result or failure became known. */
  completed_at: string | null;
  delivered_at: string | null;
  /** When the web service cancelled the job. */
  cancelled_at: string | null;
  /**
   * Only on a single queued job (GET /v1/reviews/{job_id}) waiting for its forward: 1 when it is next among its
   * client's own jobs (other clients' backlogs are not counted, nor revealed). Counted up to 10,000 jobs ahead, so
   * 10001 means at least that many.
   */
  queue_position?: number;
  delivery: DeliverySummaryDto;

  static from(job: Job, lastDelivery: Attempt | null): ReviewDto {
    return {
      job_id: job.id,
      client_id: job.clientId,
      submission_id: job.submissionId,
      student_id: job.studentId,
      status: job.status,
      priority: priorityName(job.priority),
      llm_server: job.llmServer,
      progress:
        job.progressUpdatedAt === null
          ? null
          : {
              value: job.progressValue,
              stage: job.progressStage,
              message: job.progressMessage,
              updated_at: new Date(job.progressUpdatedAt).toISOString(),
              heartbeats: job.progressHeartbeats,
            },
      ok: job.ok,
      result: job.result ?? null,
      error: job.errorCode ? { code: job.errorCode as JobErrorDto['code'], message: job.errorMessage ?? '' } : null,
      webhook_url: job.webhookUrl,
      forward_attempts: job.forwardAttempts,
      created_at: new Date(job.createdAt).toISOString(),
      updated_at: new Date(job.updatedAt).toISOString(),
      forwarded_at: isoOrNull(job.forwardedAt),
      callback_deadline_at: isoOrNull(job.callbackDeadlineAt),
      completed_at: isoOrNull(job.outcomeAt),
      delivered_at: isoOrNull(job.deliveredAt),
      cancelled_at: isoOrNull(job.cancelledAt),
      delivery: {
        webhook_id: webhookIdFor(job.id),
        attempts: job.deliveryAttempts,
        rounds: job.deliveryRounds,
        last_status_code: lastDelivery?.statusCode ?? null,
        last_error: lastDelivery?.error ?? null,
        last_attempt_at: isoOrNull(lastDelivery?.startedAt ?? null),
        next_attempt_at: job.status === 'delivering' ? isoOrNull(job.nextAttemptAt) : null,
      },
    };
  }
}

export class ReviewListDto {
  items: ReviewDto[];
  limit: number;
  /** Pass as `cursor` (with the same filters) for the next page; null on the last page. */
  next_cursor: string | null;
  /** Jobs matching the filter in all: only with `include_total=true`. */
  total?: number;
  offset: number;
  /** Offset of the next page while offsets are allowed (up to 10,000) and no cursor was given; else null. */
  next_offset: number | null;
}

export class AttemptDto {
  /**
   * forward: relay → LLM; delivery: relay → web service; cancel: the relay told the LLM the job was cancelled;
   * callback: a result from the LLM that the relay refused because it broke the result schema (RESULT_SCHEMA).
   */
  leg: 'forward' | 'delivery' | 'cancel' | 'callback';
  /**
   * 1 for the first attempt of the leg; on the delivery leg it counts on across redelivery rounds; on the callback
   * leg, the number of results refused so far.
   */
  attempt_no: number;
  /** Delivery round the attempt belongs to (1 = first delivery, +1 per redeliver); null on the other legs. */
  round: number | null;
  /** URL called (query strings redacted); on the callback leg, the callback's path (never its credential). */
  target: string;
  /** HTTP status, or null when no answer came. */
  status_code: number | null;
  /**
   * success, retry (another attempt scheduled), failed (leg gave up), stale (lease lost meanwhile), rejected (a
   * callback's result was refused with 422: error says why), or moved (its server was dead: forwarded again).
   */
  outcome: 'success' | 'retry' | 'failed' | 'stale' | 'rejected' | 'moved';
  error: string | null;
  /** The LLM server a forward or cancel notice went to (or whose result a refused callback carried); null on deliveries. */
  llm_server: string | null;
  duration_ms: number;
  started_at: string;

  static from(attempt: Attempt): AttemptDto {
    return {
      leg: attempt.leg,
      attempt_no: attempt.attemptNo,
      round: attempt.round,
      target: attempt.target,
      status_code: attempt.statusCode,
      outcome: attempt.outcome,
      error: attempt.error,
      llm_server: attempt.llmServer,
      duration_ms: attempt.durationMs,
      started_at: new Date(attempt.startedAt).toISOString(),
    };
  }
}

export class AttemptListDto {
  job_id: string;
  client_id: string;
  items: AttemptDto[];
}
