import type { LlmServerConfig } from '../config/llm-servers';
import type { OutboundResponse } from '../scheduler/outbound-http';
import { nextRetry, parseRetryAfter } from '../scheduler/retry-policy';
import type { RetrySettings } from '../config/config';

export type ServerStateName = 'closed' | 'open' | 'half-open' | 'paused' | 'unhealthy';

export interface CircuitSettings {
  failureThreshold: number;
  cooldownMs: number;
  /** The forward backoff, for a 503 without Retry-After (doubling with each in a row). */
  backoff: RetrySettings;
  retryAfterMaxSeconds: number;
}

/**
 * What this replica knows of one LLM server, from its own forwards and health probes (never shared: each replica
 * learns it): a pause after a 429/503 (until its Retry-After, or the forward backoff for a 503 without one), a circuit
 * that opens after `failureThreshold` retryable failures in a row for `cooldownMs` and then lets one forward probe it
 * (half-open), and the last health probe's verdict. Its capacity is not here: it is counted from the database.
 */
export class ServerState {
  private pausedUntil = 0;
  private overloadedInARow = 0;
  private failuresInARow = 0;
  private openUntil = 0;
  /** Half-open: a probe forward is out; no other forward goes until it is answered. */
  private probing = false;
  private healthy = true;

  constructor(
    readonly config: LlmServerConfig,
    private readonly settings: CircuitSettings,
  ) {}

  get name(): string {
    return this.config.name;
  }

  state(now: number = Date.now()): ServerStateName {
    if (!this.healthy) return 'unhealthy';
    if (this.openUntil > now) return 'open';
    if (this.failuresInARow >= this.settings.failureThreshold) return 'half-open';
    if (this.pausedUntil > now) return 'paused';
    return 'closed';
  }

  /** Whether a forward may go to it now (a half-open server takes one, its probe). */
  available(now: number = Date.now()): boolean {
    const state = this.state(now);
    return state === 'closed' || (state === 'half-open' && !this.probing);
  }

  /** Called when a forward is sent to it: a half-open server's one probe is now out. */
  sending(now: number = Date.now()): void {
    if (this.state(now) === 'half-open') this.probing = true;
  }

  /** How long until it may take a forward again (0: now); Infinity while unhealthy (a probe decides). */
  waitMs(now: number = Date.now()): number {
    const state = this.state(now);
    if (state === 'unhealthy') return Number.POSITIVE_INFINITY;
    if (state === 'open') return this.openUntil - now;
    if (state === 'paused') return this.pausedUntil - now;
    return this.probing ? Number.POSITIVE_INFINITY : 0;
  }

  /** Its answer to a forward: `retryable` says whether the attempt failed in a way another server might not. */
  observe(response: OutboundResponse, retryable: boolean, now: number = Date.now()): void {
    const wasProbe = this.probing;
    this.probing = false;
    if (retryable) {
      this.failuresInARow += 1;
      if (this.failuresInARow >= this.settings.failureThreshold) this.openUntil = now + this.settings.cooldownMs;
    } else {
      this.failuresInARow = 0;
      this.openUntil = 0;
    }
    if (wasProbe && !retryable) this.openUntil = 0;
    this.pace(response, now);
  }

  /** A health probe's verdict: unhealthy makes it unavailable at once, until a probe succeeds. */
  probed(healthy: boolean): void {
    this.healthy = healthy;
  }

  private pace(response: OutboundResponse, now: number): void {
    const status = response.statusCode;
    if (status !== 429 && status !== 503) {
      if (status !== null) this.overloadedInARow = 0;
      return;
    }
    const retryAfter = parseRetryAfter(response.retryAfter, now);
    let delayMs: number;
    if (retryAfter !== null) delayMs = Math.min(retryAfter, this.settings.retryAfterMaxSeconds) * 1000;
    else if (status === 503) {
      this.overloadedInARow += 1;
      const decision = nextRetry(
        this.overloadedInARow,
        this.settings.backoff,
        null,
        this.settings.retryAfterMaxSeconds,
      );
      delayMs = decision.retry ? decision.delayMs : 0;
    } else return;
    this.pausedUntil = Math.max(this.pausedUntil, now + delayMs);
  }
}

/** The headers every request to a server carries: its key (its api_key_env's, else LLM_API_KEY) as a bearer. */
export function headersFor(server: ServerState): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'llm-relay' };
  if (server.config.apiKey) headers.authorization = `Bearer ${server.config.apiKey}`;
  return headers;
}
