import type { RetrySettings } from '../config/config';

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/** Spread of the jitter around the exponential delay: ±20 %, so retries from a burst don't arrive together. */
const JITTER = 0.2;

/**
 * Delay before retry n (n = attempts made so far) is `backoff · 2^(n-1)`, jittered, capped; a `Retry-After` from the
 * receiver lengthens it up to its own cap. After `maxRetries` retries, give up.
 */
export function nextRetry(
  attemptsMade: number,
  policy: RetrySettings,
  retryAfterSeconds: number | null,
  retryAfterMaxSeconds: number,
  random: () => number = Math.random,
): RetryDecision {
  if (attemptsMade > policy.maxRetries) return { retry: false };
  const exponential = policy.backoffSeconds * 2 ** (attemptsMade - 1);
  const jittered = exponential * (1 - JITTER + 2 * JITTER * random());
  let delaySeconds = Math.min(jittered, policy.maxBackoffSeconds);
  if (retryAfterSeconds !== null)
    delaySeconds = Math.max(delaySeconds, Math.min(retryAfterSeconds, retryAfterMaxSeconds));
  return { retry: true, delayMs: Math.round(delaySeconds * 1000) };
}

/** `Retry-After` as seconds from now: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, nowMs: number = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // HTTP dates name a weekday or month; V8's Date.parse would also read things like "-5".
  const date = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(date)) return null;
  return Math.max(0, (date - nowMs) / 1000);
}
