import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { epochMs } from '../database/columns';

/** The legs the scheduler claims and retries: forward (relay → LLM), delivery (relay → web service), cancel (the relay
 * tells the LLM a job was cancelled). */
export type AttemptLeg = 'forward' | 'delivery' | 'cancel';
/** A timeline row's leg: an outbound leg, or `callback` for a result the relay refused (it broke RESULT_SCHEMA). */
export type TimelineLeg = AttemptLeg | 'callback';
/**
 * success: done; retry: another attempt is scheduled; failed: this leg gave up; stale: the lease was lost meanwhile;
 * rejected: a callback's result was refused.
 */
export type AttemptOutcome = 'success' | 'retry' | 'failed' | 'stale' | 'rejected' | 'moved';

/** One row per outbound attempt of any leg (forward, delivery, cancel) and per refused callback result: the job's timeline. */
@Entity({ name: 'delivery_attempts' })
@Index('idx_attempts_job', ['jobId', 'id'])
export class Attempt {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'job_id', type: 'varchar', length: 40 })
  jobId: string;

  /** The job's client, so the summary counts a client's own attempts without a join. */
  @Column({ name: 'client_id', type: 'varchar', length: 40, default: 'default' })
  clientId: string;

  @Column({ type: 'varchar', length: 10 })
  leg: TimelineLeg;

  /** Counts on across delivery rounds, so a redelivery's first attempt after seven is number 8. */
  @Column({ name: 'attempt_no', type: 'integer' })
  attemptNo: number;

  /** The delivery round (1 = first delivery, +1 per redeliver); null on the other legs. */
  @Column({ name: 'delivery_round', type: 'integer', nullable: true })
  round: number | null;

  @Column({ type: 'varchar', length: 2048 })
  target: string;

  /** The LLM server a forward or cancel notice went to; null on deliveries. */
  @Column({ name: 'llm_server', type: 'varchar', length: 64, nullable: true })
  llmServer: string | null;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ type: 'varchar', length: 10 })
  outcome: AttemptOutcome;

  @Column({ type: 'varchar', length: 500, nullable: true })
  error: string | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'started_at', type: 'bigint', transformer: epochMs })
  startedAt: number;
}
