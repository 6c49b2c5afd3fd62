/** The first sweep comes at most this long after start, so a relay restarted often (deploys, a crash loop) still sweeps. */
export const FIRST_SWEEP_MAX_MS = 60_000;
/** Each delay varies by up to this share either way, so replicas started together do not sweep in step. */
export const SWEEP_JITTER = 0.1;

/**
 * How long until the next retention sweep. The first: between half and all of the interval or FIRST_SWEEP_MAX_MS,
 * whichever is shorter; the later ones: the interval, ±SWEEP_JITTER. `random` is in [0, 1).
 */
export function sweepDelayMs(intervalMs: number, first: boolean, random: number = Math.random()): number {
  if (first) {
    const bound = Math.min(intervalMs, FIRST_SWEEP_MAX_MS);
    return Math.round(bound * (0.5 + random / 2));
  }
  return Math.round(intervalMs * (1 - SWEEP_JITTER + 2 * SWEEP_JITTER * random));
}
