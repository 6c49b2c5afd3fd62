import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type CallbackResult =
  'accepted' | 'duplicate' | 'cancelled' | 'conflict' | 'unauthorized' | 'invalid' | 'not_found' | 'rejected';

/**
 * The relay's Prometheus metrics, in a registry of its own (one per app, so tests can run several). Labels are
 * bounded: leg, outcome, result; never a URL or a job id.
 */
@Injectable()
export class RelayMetrics {
  readonly registry = new Registry();

  private readonly attempts = new Counter({
    name: 'relay_attempts_total',
    help: 'Outbound attempts by leg (forward: relay → LLM, delivery: relay → web service, cancel: cancel notice to the LLM) and outcome',
    labelNames: ['leg', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly attemptDuration = new Histogram({
    name: 'relay_attempt_duration_seconds',
    help: 'Duration of outbound attempts',
    labelNames: ['leg'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly callbackToDelivery = new Histogram({
    name: 'relay_callback_to_delivery_seconds',
    help: 'From the outcome being known (callback, timeout, forward failure) to the successful first-round delivery (redeliveries are not timed)',
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
    registers: [this.registry],
  });

  private readonly deliveriesFailed = new Counter({
    name: 'relay_deliveries_failed_total',
    help: 'Deliveries that gave up: jobs entering delivery_failed (retries exhausted, 410, or a refused destination)',
    registers: [this.registry],
  });

  private readonly callbacks = new Counter({
    name: 'relay_callbacks_total',
    help: 'LLM callbacks by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly intakeRejections = new Counter({
    name: 'relay_intake_rejected_total',
    help: "Intake requests refused to protect accepted work, by reason (backlog_full: INTAKE_MAX_BACKLOG or a client's max_backlog reached; overloaded: INTAKE_MAX_EVENT_LOOP_DELAY_MS passed; rate_limited: a client's intake_rate_limit)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly deletedJobs = new Counter({
    name: 'relay_jobs_deleted_total',
    help: 'Finished jobs deleted by retention (JOB_RETENTION_DAYS), with their attempts',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  jobsDeleted(count: number): void {
    if (count > 0) this.deletedJobs.inc(count);
  }

  intakeRejected(reason: 'backlog_full' | 'overloaded' | 'rate_limited'): void {
    this.intakeRejections.inc({ reason });
  }

  /** One finished outbound attempt (or refused callback) of a leg, with what it came to and how long it took. */
  attemptFinished(record: { leg: string; outcome: string; durationMs: number }): void {
    this.attempts.inc({ leg: record.leg, outcome: record.outcome });
    this.attemptDuration.observe({ leg: record.leg }, record.durationMs / 1000);
  }

  delivered(secondsSinceOutcome: number): void {
    this.callbackToDelivery.observe(Math.max(0, secondsSinceOutcome));
  }

  deliveryFailed(): void {
    this.deliveriesFailed.inc();
  }

  callback(result: CallbackResult): void {
    this.callbacks.inc({ result });
  }
}
