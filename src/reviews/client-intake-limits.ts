import { Injectable } from '@nestjs/common';
import type { Client } from '../clients/client.entity';
import { JobLoadRepository } from '../jobs/job-load.repository';

/** How long a client's backlog count is trusted (as the relay's own, in IntakeAdmissionGuard). */
const COUNT_TTL_MS = 500;

export type ClientRefusal =
  { code: 'backlog_full'; retryAfterSeconds: number } | { code: 'rate_limited'; retryAfterSeconds: number };

/**
 * A client's own intake limits: `max_backlog` (its waiting jobs, one counter row read at most every COUNT_TTL_MS per
 * client) and `intake_rate_limit` (requests per INTAKE_RATE_WINDOW_SECONDS, counted in fixed windows by each
 * replica, as INTAKE_RATE_LIMIT is: with N replicas behind a balancer a client may get up to N times its limit).
 */
@Injectable()
export class ClientIntakeLimits {
  private readonly backlogs = new Map<string, { at: number; queued: number }>();
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly load: JobLoadRepository) {}

  /** Counts this request against the client's rate; the refusal, if a limit of its own is reached. */
  async check(client: Client, windowMs: number, backlogRetryAfterSeconds: number): Promise<ClientRefusal | null> {
    if (client.intakeRateLimit > 0) {
      const now = Date.now();
      const start = now - (now % windowMs);
      let window = this.windows.get(client.id);
      if (!window || window.start !== start) {
        window = { start, count: 0 };
        this.windows.set(client.id, window);
      }
      window.count += 1;
      if (window.count > client.intakeRateLimit) {
        return { code: 'rate_limited', retryAfterSeconds: Math.max(1, Math.ceil((start + windowMs - now) / 1000)) };
      }
    }
    if (client.maxBacklog > 0 && (await this.queued(client.id)) >= client.maxBacklog) {
      return { code: 'backlog_full', retryAfterSeconds: backlogRetryAfterSeconds };
    }
    return null;
  }

  private async queued(clientId: string): Promise<number> {
    const cached = this.backlogs.get(clientId);
    if (cached && Date.now() - cached.at < COUNT_TTL_MS) return cached.queued;
    const queued = await this.load.clientQueued(clientId);
    this.backlogs.set(clientId, { at: Date.now(), queued });
    return queued;
  }
}
