import type { AttemptLeg } from '../jobs/attempt.entity';
import type { ClaimedJob } from '../jobs/claimed-job';
import type { ServerSlot } from '../jobs/server-routing';

/**
 * One outbound leg as the scheduler drives it: the leg's module registers it (WorkScheduler.register) and the
 * scheduler claims its due jobs and starts one attempt per claim, without waiting for it.
 */
export interface LegRunner {
  readonly leg: AttemptLeg;
  /** One attempt for a claimed job; its outcome's writes are fenced by the claim's lease. */
  attempt(claim: ClaimedJob): Promise<unknown>;
  /** How long claims of this leg must still wait, in ms (0: they may go now); the scheduler kicks itself then. */
  pausedForMs?(): number;
  /** At most this many of the leg's jobs out at once, across replicas (0: no limit). */
  readonly maxInFlight?: number;
  /** Forward leg: the LLM servers its claims may route to now. */
  claimServers?(): ServerSlot[];
  /**
   * Called once the drain at shutdown is over (its grace period spent): cut off whatever is still in flight, e.g. by
   * destroying the leg's HTTP agents. The cut-off attempts still make their last, fenced writes.
   */
  cutOff?(): void;
}
