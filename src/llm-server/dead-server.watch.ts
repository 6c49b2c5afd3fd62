import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { JobsService } from '../jobs/jobs.service';
import { ServerLivenessRepository } from '../jobs/server-liveness.repository';
import { AttemptLogService } from '../scheduler/attempt-log.service';
import { LlmFleet } from './llm-fleet';

/** How often each replica writes a server's verdicts (at most), and looks for dead servers. */
const WRITE_EVERY_MS = 1_000;

/**
 * Dead LLM servers and their jobs. Every replica writes what its forwards and health probes meet (at most once a
 * second per server and verdict) to the database, so that they agree: a server none of them has had a success from
 * for LLM_SERVER_DEAD_AFTER_SECONDS, while it was being tried or probed, is dead, and the jobs it held move on to the
 * live servers (JobsService.moveOffServer: each once, whichever replica notices first), each move in the job's
 * timeline. With one server there is nowhere to move to, and nothing is watched.
 */
@Injectable()
export class DeadServerWatch implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DeadServerWatch.name);
  private readonly written = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly fleet: LlmFleet,
    private readonly liveness: ServerLivenessRepository,
    private readonly jobs: JobsService,
    private readonly attempts: AttemptLogService,
  ) {}

  onModuleInit(): void {
    if (this.fleet.servers.length < 2) return;
    this.fleet.onVerdict = (server, success) => this.observe(server, success);
    this.timer = setInterval(() => void this.sweep(), Math.min(WRITE_EVERY_MS, this.fleet.deadAfterMs));
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private observe(server: string, success: boolean): void {
    const key = `${server}:${success}`;
    const now = Date.now();
    if (now - (this.written.get(key) ?? 0) < WRITE_EVERY_MS) return;
    this.written.set(key, now);
    this.liveness
      .record(server, success)
      .catch((error: Error) => this.logger.warn(`liveness of ${server}: ${error.message}`));
  }

  /** Moves the jobs of every dead server (when some other server is configured to take them). */
  async sweep(): Promise<void> {
    try {
      for (const name of await this.liveness.dead(this.fleet.deadAfterMs)) {
        const server = this.fleet.server(name);
        if (!server) continue;
        const moved = await this.jobs.moveOffServer(name);
        if (moved.length === 0) continue;
        this.logger.warn(`LLM server ${name} is dead: ${moved.length} job(s) moved to the live servers`);
        const seconds = Math.round(this.fleet.deadAfterMs / 1000);
        for (const job of moved) {
          await this.attempts.record({
            jobId: job.id,
            clientId: job.clientId,
            leg: 'forward',
            attemptNo: job.forwardAttempts,
            round: null,
            target: `${this.fleet.baseUrl(server)}${server.config.forwardPath}`,
            statusCode: null,
            outcome: 'moved',
            error: `moved: no replica had a success from LLM server ${name} for ${seconds} s`,
            durationMs: 0,
            startedAt: Date.now(),
            llmServer: name,
          });
        }
      }
    } catch (error) {
      this.logger.warn(`looking for dead LLM servers failed: ${(error as Error).message}`);
    }
  }
}
