import type { AttemptLeg } from './attempt.entity';
import type { Job } from './job.entity';

/** A job claimed for one attempt; every write about that attempt is fenced by its lease token. */
export interface ClaimedJob {
  job: Job;
  lease: string;
  /** The leg's attempt number; on the delivery leg it counts on across redelivery rounds. */
  attemptNo: number;
  /** Delivery round (1 = first delivery, +1 per redeliver); null on the other legs. */
  round: number | null;
  /** Attempts so far in this round: the retry budget applies per round, so a redeliver gets a full one. */
  attemptInRound: number;
  /**
   * When the lease runs out by this process's clock (epoch ms), reckoned from before the claim, so never later than
   * the database's expiry: past it the attempt's writes are fenced out.
   */
  leaseDeadline: number;
}

/** The claim of a job whose leg counter the claiming UPDATE has just incremented. */
export function claimOf(job: Job, lease: string, leg: AttemptLeg, leaseDeadline: number): ClaimedJob {
  if (leg === 'forward') {
    return {
      job,
      lease,
      attemptNo: job.forwardAttempts,
      round: null,
      // Moves off a dead server are forwards too, but not retries: they do not spend FORWARD_MAX_RETRIES.
      attemptInRound: job.forwardAttempts - job.forwardMoves,
      leaseDeadline,
    };
  }
  if (leg === 'cancel') {
    return {
      job,
      lease,
      attemptNo: job.cancelAttempts,
      round: null,
      attemptInRound: job.cancelAttempts,
      leaseDeadline,
    };
  }
  const attemptInRound = job.deliveryAttempts - job.deliveryRoundBase;
  return { job, lease, attemptNo: job.deliveryAttempts, round: job.deliveryRounds, attemptInRound, leaseDeadline };
}
