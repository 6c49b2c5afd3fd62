import type { AttemptOutcome, TimelineLeg } from '../jobs/attempt.entity';

/** Delivery-attempt rows as the summary reads them: nothing but what the per-minute counts need. */
export interface RecentAttempt {
  leg: TimelineLeg;
  outcome: AttemptOutcome;
  startedAt: number;
  /** How many rows this stands for (rows of one leg, outcome and minute come counted); 1 when absent. */
  count?: number;
}

export interface MinuteBucket {
  /** Start of the minute (epoch ms, a whole minute). */
  start: number;
  /** Delivery attempts answered 2xx. */
  delivered: number;
  /** Delivery attempts that did not succeed: retried afterwards, or the last of their round. */
  failed: number;
  /** Of those, the ones that gave up (the job went to delivery_failed). */
  gaveUp: number;
}

export const MINUTE_MS = 60_000;

/**
 * Counts delivery attempts per minute over the `minutes` whole minutes that end with the current one (the current
 * minute, still filling, is the last bucket). Attempts of other legs, stale attempts (their lease was lost, another
 * attempt took over) and attempts outside the window are left out. Pure, so the edges are tested directly.
 */
export function bucketDeliveriesPerMinute(
  attempts: Iterable<RecentAttempt>,
  now: number,
  minutes = 60,
): MinuteBucket[] {
  const first = Math.floor(now / MINUTE_MS) * MINUTE_MS - (minutes - 1) * MINUTE_MS;
  const buckets: MinuteBucket[] = Array.from({ length: minutes }, (_, i) => ({
    start: first + i * MINUTE_MS,
    delivered: 0,
    failed: 0,
    gaveUp: 0,
  }));
  for (const attempt of attempts) {
    if (attempt.leg !== 'delivery') continue;
    const index = Math.floor((attempt.startedAt - first) / MINUTE_MS);
    if (index < 0 || index >= minutes) continue;
    const bucket = buckets[index];
    const count = attempt.count ?? 1;
    if (attempt.outcome === 'success') bucket.delivered += count;
    else if (attempt.outcome === 'retry') bucket.failed += count;
    else if (attempt.outcome === 'failed') {
      bucket.failed += count;
      bucket.gaveUp += count;
    }
  }
  return buckets;
}

/** Start of the window `bucketDeliveriesPerMinute` covers for `now`. */
export function windowStart(now: number, minutes = 60): number {
  return Math.floor(now / MINUTE_MS) * MINUTE_MS - (minutes - 1) * MINUTE_MS;
}
