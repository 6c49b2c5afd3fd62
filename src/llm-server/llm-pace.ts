import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { CONFIG, type RelayConfig, type RetrySettings } from '../config/config';
import { RelayMetrics } from '../metrics/relay-metrics';
import type { OutboundResponse } from '../scheduler/outbound-http';
import { nextRetry, parseRetryAfter } from '../scheduler/retry-policy';

/**
 * The LLM's own signal that it is full. A 429 or 503 with Retry-After pauses every forward of this relay until then
 * (not only the job that got it), so the rest of the queue does not hammer an overloaded LLM; a 503 without it pauses
 * for the forward backoff, growing with each 503 in a row and reset by any other answer. Each replica learns it from
 * its own forwards.
 */
@Injectable()
export class LlmPace {
  private pausedUntil = 0;
  private overloadedInARow = 0;
  private readonly backoff: RetrySettings;

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    metrics: RelayMetrics,
  ) {
    // The pause never gives up: it only spaces out the forwards.
    this.backoff = { ...config.forward, maxRetries: Number.MAX_SAFE_INTEGER };
    const remainingSeconds = () => this.remainingMs() / 1000;
    new Gauge({
      name: 'relay_llm_pause_seconds',
      help: 'Seconds until forwards resume after the LLM answered 429 or 503 (0: not paused)',
      registers: [metrics.registry],
      collect() {
        this.set(remainingSeconds());
      },
    });
  }

  /** How long forwards must still wait, in ms; 0 when they may go. */
  remainingMs(now: number = Date.now()): number {
    return Math.max(0, this.pausedUntil - now);
  }

  /** Called with the LLM's answer to every forward. Returns the pause it started, in ms (0: none). */
  observe(response: OutboundResponse, now: number = Date.now()): number {
    const status = response.statusCode;
    if (status !== 429 && status !== 503) {
      if (status !== null) this.overloadedInARow = 0;
      return 0;
    }
    const retryAfter = parseRetryAfter(response.retryAfter, now);
    let delayMs: number;
    if (retryAfter !== null) delayMs = Math.min(retryAfter, this.config.retryAfterMaxSeconds) * 1000;
    else if (status === 503) {
      this.overloadedInARow += 1;
      const decision = nextRetry(this.overloadedInARow, this.backoff, null, this.config.retryAfterMaxSeconds);
      delayMs = decision.retry ? decision.delayMs : 0;
    } else return 0;
    this.pausedUntil = Math.max(this.pausedUntil, now + delayMs);
    return delayMs;
  }
}
