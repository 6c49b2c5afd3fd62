import type { AttemptLeg } from './attempt.entity';
import type { Job } from './job.entity';

/** A job claimed for one attempt; every write about that attempt is fenced by its lease token. */
export interface ClaimedJob {
  job: Job;
  lease: string;
  /** The leg's attempt number; on the delivery leg it counts on across redelivery rounds. */
  attemptNo: number;
  /** Delivery round (1 = first delivery, +1 per redeliver); null on the forward leg. */
  round: number | null;
  /** Attempts so far in this round: the retry budget applies per round, so a redeliver gets a full one. */
  attemptInRound: number;
}

/** The claim of a job whose leg counter the claiming UPDATE has just incremented. */
export function claimOf(job: Job, lease: string, leg: AttemptLeg): ClaimedJob {
  if (leg === 'forward') {
    return { job, lease, attemptNo: job.forwardAttempts, round: null, attemptInRound: job.forwardAttempts };
  }
  const attemptInRound = job.deliveryAttempts - job.deliveryRoundBase;
  return { job, lease, attemptNo: job.deliveryAttempts, round: job.deliveryRounds, attemptInRound };
}
