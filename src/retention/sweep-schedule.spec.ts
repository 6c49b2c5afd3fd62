import { FIRST_SWEEP_MAX_MS, sweepDelayMs } from './sweep-schedule';

describe('retention sweep schedule', () => {
  it.each([
    // interval, first?, random, expected
    [600_000, true, 0, 30_000],
    [600_000, true, 0.999999, 60_000],
    [10_000, true, 0, 5_000],
    [10_000, true, 0.5, 7_500],
    [600_000, false, 0, 540_000],
    [600_000, false, 0.5, 600_000],
    [600_000, false, 0.999999, 660_000],
  ])('interval %d ms, first %s, random %d: %d ms', (interval, first, random, expected) => {
    expect(sweepDelayMs(interval, first, random)).toBe(expected);
  });

  it('never waits a whole long interval for the first sweep, and spreads replicas started together', () => {
    const firsts = Array.from({ length: 200 }, () => sweepDelayMs(86_400_000, true));
    expect(Math.max(...firsts)).toBeLessThanOrEqual(FIRST_SWEEP_MAX_MS);
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(FIRST_SWEEP_MAX_MS / 2);
    expect(new Set(firsts).size).toBeGreaterThan(100);
  });
});
