export const JOB_STATUSES = [
  'queued',
  'processing',
  'delivering',
  'delivered',
  'delivery_failed',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses in which a job still has work to do: the scheduler looks only at these. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['queued', 'processing', 'delivering'];

/** Statuses an operator may redeliver from. */
export const REDELIVERABLE_STATUSES: readonly JobStatus[] = ['delivered', 'delivery_failed'];

/** Final statuses (until an operator redelivers): what retention may delete once old enough. */
export const FINISHED_STATUSES: readonly JobStatus[] = [...REDELIVERABLE_STATUSES, 'cancelled'];

/** Statuses the web service may cancel from: every one before the result is delivered or given up on. */
export const CANCELLABLE_STATUSES: readonly JobStatus[] = ACTIVE_STATUSES;

/**
 * Legal moves. `queued → delivering` exists because a callback is accepted from the moment the forward is sent,
 * and a fast LLM may call back before its answer to the forward request has been recorded; it is also the move
 * taken when the forward is exhausted. `processing → queued` is a job whose callback deadline passed forwarded again
 * (LLM_CALLBACK_TIMEOUT_RETRIES). `cancelled` is final: the web service withdrew the job before its result was
 * delivered.
 */
const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['processing', 'delivering', 'cancelled'],
  processing: ['queued', 'delivering', 'cancelled'],
  delivering: ['delivered', 'delivery_failed', 'cancelled'],
  delivered: ['delivering'],
  delivery_failed: ['delivering'],
  cancelled: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: JobStatus, to: JobStatus): void {
  if (!canTransition(from, to)) throw new Error(`Illegal job transition ${from} → ${to}`);
}
