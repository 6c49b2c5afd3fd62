import type { AttemptOutcome, TimelineLeg } from '../jobs/attempt.entity';
import { bucketDeliveriesPerMinute, MINUTE_MS, windowStart } from './minute-buckets';

const NOW = Date.parse('2026-11-27T10:30:25.500Z');
const CURRENT_MINUTE = Date.parse('2026-11-27T10:30:00Z');
const attempt = (startedAt: number, outcome: AttemptOutcome = 'success', leg: TimelineLeg = 'delivery') => ({
  leg,
  outcome,
  startedAt,
});

describe('bucketDeliveriesPerMinute', () => {
  it('makes 60 whole minutes, oldest first, the last one the current minute', () => {
    const buckets = bucketDeliveriesPerMinute([], NOW);
    expect(buckets).toHaveLength(60);
    expect(buckets[59].start).toBe(CURRENT_MINUTE);
    expect(buckets[0].start).toBe(CURRENT_MINUTE - 59 * MINUTE_MS);
    expect(windowStart(NOW)).toBe(buckets[0].start);
    expect(buckets.every((bucket, i) => i === 0 || bucket.start - buckets[i - 1].start === MINUTE_MS)).toBe(true);
    expect(buckets.every((bucket) => bucket.delivered + bucket.failed + bucket.gaveUp === 0)).toBe(true);
  });

  it('puts an attempt in the minute it started, edges included', () => {
    const buckets = bucketDeliveriesPerMinute(
      [attempt(CURRENT_MINUTE), attempt(CURRENT_MINUTE - 1), attempt(CURRENT_MINUTE - 59 * MINUTE_MS), attempt(NOW)],
      NOW,
    );
    expect(buckets[59].delivered).toBe(2);
    expect(buckets[58].delivered).toBe(1);
    expect(buckets[0].delivered).toBe(1);
  });

  it('leaves out attempts before the window, in the future, of other legs, and stale ones', () => {
    const buckets = bucketDeliveriesPerMinute(
      [
        attempt(CURRENT_MINUTE - 59 * MINUTE_MS - 1),
        attempt(CURRENT_MINUTE + MINUTE_MS),
        attempt(NOW, 'success', 'forward'),
        attempt(NOW, 'retry', 'cancel'),
        attempt(NOW, 'rejected', 'callback'),
        attempt(NOW, 'stale'),
      ],
      NOW,
    );
    expect(buckets.reduce((sum, bucket) => sum + bucket.delivered + bucket.failed + bucket.gaveUp, 0)).toBe(0);
  });

  it('counts retried and given-up attempts as failed, and given-up ones also apart', () => {
    const at = CURRENT_MINUTE - 10 * MINUTE_MS + 5_000;
    const [bucket] = bucketDeliveriesPerMinute(
      [attempt(at, 'retry'), attempt(at, 'retry'), attempt(at, 'failed'), attempt(at)],
      NOW,
    ).filter((b) => b.start === CURRENT_MINUTE - 10 * MINUTE_MS);
    expect(bucket).toEqual({ start: CURRENT_MINUTE - 10 * MINUTE_MS, delivered: 1, failed: 3, gaveUp: 1 });
  });

  it('adds counted rows (one leg, outcome and minute, as the database counts them) by their count', () => {
    const buckets = bucketDeliveriesPerMinute(
      [
        { ...attempt(CURRENT_MINUTE), count: 7 },
        { ...attempt(CURRENT_MINUTE, 'failed'), count: 3 },
        { ...attempt(CURRENT_MINUTE, 'retry'), count: 2 },
        { ...attempt(CURRENT_MINUTE, 'stale'), count: 9 },
      ],
      NOW,
    );
    expect(buckets[59]).toMatchObject({ delivered: 7, failed: 5, gaveUp: 3 });
  });

  it('takes another window length', () => {
    const buckets = bucketDeliveriesPerMinute(
      [attempt(CURRENT_MINUTE - 4 * MINUTE_MS), attempt(CURRENT_MINUTE - 5 * MINUTE_MS)],
      NOW,
      5,
    );
    expect(buckets.map((b) => b.delivered)).toEqual([1, 0, 0, 0, 0]);
  });
});
