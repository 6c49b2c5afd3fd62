import { nextRetry, parseRetryAfter } from './retry-policy';

const policy = { maxRetries: 6, backoffSeconds: 2, maxBackoffSeconds: 3600 };
const middle = () => 0.5; // jitter factor exactly 1

describe('nextRetry', () => {
  it.each([
    [1, 2000],
    [2, 4000],
    [3, 8000],
    [4, 16000],
    [5, 32000],
    [6, 64000],
  ])('after %i attempt(s) waits backoff·2^(n-1) = %i ms', (attempts, expected) => {
    expect(nextRetry(attempts, policy, null, 3600, middle)).toEqual({ retry: true, delayMs: expected });
  });

  it('gives up after maxRetries retries (7 attempts in all by default)', () => {
    expect(nextRetry(7, policy, null, 3600, middle)).toEqual({ retry: false });
    expect(nextRetry(1, { ...policy, maxRetries: 0 }, null, 3600, middle)).toEqual({ retry: false });
  });

  it('jitters by at most ±20 %', () => {
    expect(nextRetry(1, policy, null, 3600, () => 0)).toEqual({ retry: true, delayMs: 1600 });
    expect(nextRetry(1, policy, null, 3600, () => 0.999999)).toEqual({ retry: true, delayMs: 2400 });
  });

  it('caps the delay', () => {
    expect(nextRetry(6, { ...policy, maxBackoffSeconds: 10 }, null, 3600, middle)).toEqual({
      retry: true,
      delayMs: 10000,
    });
  });

  it('accepts fractional backoff seconds', () => {
    expect(nextRetry(2, { ...policy, backoffSeconds: 0.05 }, null, 3600, middle)).toEqual({
      retry: true,
      delayMs: 100,
    });
  });

  it('honours Retry-After up to its cap', () => {
    expect(nextRetry(1, policy, 30, 3600, middle)).toEqual({ retry: true, delayMs: 30000 });
    expect(nextRetry(1, policy, 999999, 60, middle)).toEqual({ retry: true, delayMs: 60000 });
    expect(nextRetry(3, policy, 1, 3600, middle)).toEqual({ retry: true, delayMs: 8000 });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter('-5')).toBeNull();
  });
});
