import { ApiProperty } from '@nestjs/swagger';
import type { JobSummary } from '../review-summary.service';

/** Jobs in each status, every status present (0 when none). */
export class JobCountsDto {
  /** Stored; the forward to the LLM is pending or being retried. */
  queued: number;
  /** The LLM accepted the job; its callback is awaited. */
  processing: number;
  /** The outcome is known; delivery is pending or being retried. */
  delivering: number;
  /** The webhook answered 2xx. */
  delivered: number;
  /** Delivery retries ran out (or the receiver answered 410); redeliverable. */
  delivery_failed: number;
  /** Withdrawn by the web service before its result was delivered. */
  cancelled: number;
}

export class DeliveryMinuteDto {
  /** Start of the minute. */
  minute: string;
  /** Delivery attempts answered 2xx in this minute. */
  delivered: number;
  /** Delivery attempts that did not succeed (retried afterwards, or the last of their round). */
  failed: number;
  /** Of the failed attempts, those after which the job went to delivery_failed. */
  gave_up: number;
}

export class ClientLoadDto {
  client_id: string;
  /** Its jobs waiting to be forwarded (queued, no forward in progress). */
  waiting: number;
  /** Its jobs at the LLM. */
  in_flight: number;
}

export class LlmServerSummaryDto {
  name: string;
  /** As this replica sees it (circuits, pauses and health are learnt by each replica). */
  @ApiProperty({ enum: ['closed', 'open', 'half-open', 'paused', 'unhealthy'] })
  state: string;
  /** Jobs at it: being forwarded to it or awaiting their callback, all replicas. */
  in_flight: number;
  /** Its capacity (0: no limit). */
  max_in_flight: number;
}

export class ReviewSummaryDto {
  /** Jobs in each status (from the table of counts the database keeps up to date with every change). */
  counts: JobCountsDto;
  /** Jobs waiting to be forwarded to the LLM (queued, no forward in progress). */
  llm_waiting: number;
  /** Jobs at the LLM: being forwarded or awaiting their callback, all replicas. */
  llm_in_flight: number;
  /** LLM_MAX_IN_FLIGHT (0: no limit). */
  llm_max_in_flight: number;
  /** The LLM servers (one, `default`, unless LLM_SERVERS lists several). */
  llm_servers: LlmServerSummaryDto[];
  /** Per client: the caller's own, or with an admin key every client's (or the one `client_id` names). */
  clients: ClientLoadDto[];
  /** Age in seconds of the oldest job not yet delivered, failed or cancelled; null when there is none. */
  oldest_pending_age_seconds: number | null;
  /**
   * Delivery attempts per minute over the last 60 minutes, oldest first; the last entry is the current minute, still
   * filling.
   */
  deliveries_per_minute: DeliveryMinuteDto[];
  /** Attempt rows read to count the last hour (at most 50,000). */
  attempts_scanned: number;
  /**
   * Null when every attempt of the last hour was counted. Otherwise the hour held more attempts than one summary
   * reads, and the minutes before this time are undercounted.
   */
  partial_before: string | null;
  /** Whether POST /simulate-llm/{job_id} is enabled (SIMULATION_ENABLED). */
  simulation_enabled: boolean;
  /** When the summary was made. */
  generated_at: string;

  static from(summary: JobSummary): ReviewSummaryDto {
    return {
      counts: summary.counts,
      llm_waiting: summary.llmWaiting,
      llm_in_flight: summary.llmInFlight,
      llm_max_in_flight: summary.llmMaxInFlight,
      llm_servers: summary.llmServers.map((server) => ({
        name: server.name,
        state: server.state,
        in_flight: server.inFlight,
        max_in_flight: server.maxInFlight,
      })),
      clients: summary.clients.map((client) => ({
        client_id: client.clientId,
        waiting: Math.max(0, client.waiting),
        in_flight: client.inFlight,
      })),
      oldest_pending_age_seconds: summary.oldestPendingAgeSeconds,
      deliveries_per_minute: summary.minutes.map((bucket) => ({
        minute: new Date(bucket.start).toISOString(),
        delivered: bucket.delivered,
        failed: bucket.failed,
        gave_up: bucket.gaveUp,
      })),
      attempts_scanned: summary.attemptsScanned,
      partial_before: summary.partialBefore === null ? null : new Date(summary.partialBefore).toISOString(),
      simulation_enabled: summary.simulationEnabled,
      generated_at: new Date(summary.now).toISOString(),
    };
  }
}
