import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMs, jsonText } from '../database/columns';
import type { JobStatus } from './job-status';

export interface FileRef {
  url: string;
  name?: string;
  content_type?: string;
}

export interface JobError {
  code: string;
  message: string;
}

@Entity({ name: 'jobs' })
@Index('idx_jobs_due', ['status', 'nextAttemptAt'])
@Index('idx_jobs_submission', ['submissionId', 'createdAt', 'id'])
@Index('idx_jobs_created', ['createdAt', 'id'])
@Index('idx_jobs_status_created', ['status', 'createdAt', 'id'])
@Index('idx_jobs_change', ['changeSeq', 'id'])
@Index('idx_jobs_client_created', ['clientId', 'createdAt', 'id'])
@Index('idx_jobs_client_status_created', ['clientId', 'status', 'createdAt', 'id'])
@Index('idx_jobs_client_change', ['clientId', 'changeSeq', 'id'])
@Index('idx_jobs_llm_processing', ['llmServer'], { where: "status = 'processing'" })
@Index('idx_jobs_client_due', ['clientId', 'priority', 'nextAttemptAt'], { where: "status = 'queued'" })
@Index('idx_jobs_forwarding', ['leaseExpiresAt'], { where: "status = 'queued' AND lease_token IS NOT NULL" })
export class Job {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  /** The client (web service) whose key submitted it: `default` for RELAY_API_KEYS. */
  @Column({ name: 'client_id', type: 'varchar', length: 40, default: 'default' })
  clientId: string;

  @Column({ name: 'submission_id', type: 'varchar', length: 200 })
  submissionId: string;

  @Column({ name: 'student_id', type: 'varchar', length: 200, nullable: true })
  studentId: string | null;

  @Column({ name: 'file_refs', type: 'text', transformer: jsonText })
  fileRefs: FileRef[];

  @Column({ type: 'text', nullable: true, transformer: jsonText })
  metadata: Record<string, unknown> | null;

  @Column({ name: 'webhook_url', type: 'varchar', length: 2048 })
  webhookUrl: string;

  /** `<client_id>:<Idempotency-Key>`: keys are per client. */
  @Column({ name: 'idempotency_key', type: 'varchar', length: 300, nullable: true, unique: true })
  idempotencyKey: string | null;

  /** SHA-256 of the canonical request body, to tell a retried request from a reused key. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  @Column({ type: 'varchar', length: 20 })
  status: JobStatus;

  /** The LLM server's latest progress report (0..1), stage and message; null before any. */
  @Column({ name: 'progress_value', type: 'double precision', nullable: true })
  progressValue: number | null;

  @Column({ name: 'progress_stage', type: 'varchar', length: 100, nullable: true })
  progressStage: string | null;

  @Column({ name: 'progress_message', type: 'varchar', length: 500, nullable: true })
  progressMessage: string | null;

  @Column({ name: 'progress_updated_at', type: 'bigint', nullable: true, transformer: epochMs })
  progressUpdatedAt: number | null;

  /** Times it was moved off a dead LLM server (forwarded again without counting as a forward retry). */
  @Column({ name: 'forward_moves', type: 'integer', default: 0 })
  forwardMoves: number;

  /** Times its callback deadline passed and it was forwarded again (LLM_CALLBACK_TIMEOUT_RETRIES). */
  @Column({ name: 'timeout_retries', type: 'integer', default: 0 })
  timeoutRetries: number;

  /** Progress reports recorded (heartbeats), counted rather than stored one by one. */
  @Column({ name: 'progress_heartbeats', type: 'integer', default: 0 })
  progressHeartbeats: number;

  /** The LLM server of its latest forward (chosen when the forward was claimed); null before any. */
  @Column({ name: 'llm_server', type: 'varchar', length: 64, nullable: true })
  llmServer: string | null;

  /** The order of its forward among its client's waiting jobs: 0 high, 1 normal, 2 low (see job-priority.ts). */
  @Column({ type: 'smallint', default: 1 })
  priority: number;

  @Column({ type: 'boolean', nullable: true })
  ok: boolean | null;

  @Column({ type: 'text', nullable: true, transformer: jsonText })
  result: unknown;

  @Column({ name: 'error_code', type: 'varchar', length: 40, nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_message', type: 'varchar', length: 1000, nullable: true })
  errorMessage: string | null;

  /** SHA-256 of the recorded outcome, so a repeated callback can be told from a conflicting one. */
  @Column({ name: 'outcome_hash', type: 'varchar', length: 64, nullable: true })
  outcomeHash: string | null;

  /**
   * SHA-256 hashes of the callback credentials issued, comma-separated. A fresh credential is issued with each
   * forward attempt (only hashes are stored, so a retry after a crash cannot resend an old one); any of them is valid.
   */
  @Column({ name: 'callback_token_hashes', type: 'text', default: '' })
  callbackTokenHashes: string;

  /** Why the latest result was refused (it broke RESULT_SCHEMA); null while none was. */
  @Column({ name: 'result_rejection', type: 'varchar', length: 1000, nullable: true })
  resultRejection: string | null;

  /** Results refused for breaking RESULT_SCHEMA. */
  @Column({ name: 'result_rejections', type: 'integer', default: 0 })
  resultRejections: number;

  @Column({ name: 'forward_attempts', type: 'integer', default: 0 })
  forwardAttempts: number;

  /** Delivery attempts in all rounds: numbering continues across redeliveries. */
  @Column({ name: 'delivery_attempts', type: 'integer', default: 0 })
  deliveryAttempts: number;

  /** Delivery rounds started: 1 once the outcome is known, +1 per redeliver. */
  @Column({ name: 'delivery_rounds', type: 'integer', default: 0 })
  deliveryRounds: number;

  /** Delivery attempts made before the current round began; the retry budget counts from here. */
  @Column({ name: 'delivery_round_base', type: 'integer', default: 0 })
  deliveryRoundBase: number;

  /** When the current leg is next due: a forward, a delivery, or (while processing) the callback deadline. */
  @Column({ name: 'next_attempt_at', type: 'bigint', nullable: true, transformer: epochMs })
  nextAttemptAt: number | null;

  @Column({ name: 'lease_token', type: 'varchar', length: 40, nullable: true })
  leaseToken: string | null;

  @Column({ name: 'lease_expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  leaseExpiresAt: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt: number;

  @Column({ name: 'forwarded_at', type: 'bigint', nullable: true, transformer: epochMs })
  forwardedAt: number | null;

  @Column({ name: 'callback_deadline_at', type: 'bigint', nullable: true, transformer: epochMs })
  callbackDeadlineAt: number | null;

  @Column({ name: 'outcome_at', type: 'bigint', nullable: true, transformer: epochMs })
  outcomeAt: number | null;

  @Column({ name: 'delivered_at', type: 'bigint', nullable: true, transformer: epochMs })
  deliveredAt: number | null;

  @Column({ name: 'cancelled_at', type: 'bigint', nullable: true, transformer: epochMs })
  cancelledAt: number | null;

  /** Cancellation notices sent to the LLM (LLM_CANCEL_PATH); while one is due, next_attempt_at says when. */
  @Column({ name: 'cancel_attempts', type: 'integer', default: 0 })
  cancelAttempts: number;

  /**
   * Orders status changes by commit for the catch-up feed: set by every write of `status` (see change-seq.ts).
   * Other writes (leases, retries scheduled) leave it alone.
   */
  @Column({ name: 'change_seq', type: 'bigint', default: 0, transformer: bigintNumber })
  changeSeq: number;
}
