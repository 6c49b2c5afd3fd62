import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { CallbackUnauthorizedError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';
import { tokenMatches } from '../jobs/callback-token';
import { JobQueriesRepository } from '../jobs/job-queries.repository';
import { JobsService } from '../jobs/jobs.service';
import type { LlmProgressDto, ProgressAckDto } from './dto/llm-progress.dto';

/** Heartbeats held back (coalesced) for at most this many jobs at once; past it, more are not held (nor counted). */
const MAX_HELD_JOBS = 10_000;
/** At most one write per job per this long (JobWritesRepository.recordProgress holds the same bound). */
const COALESCE_MS = 1_000;

/**
 * Progress from the LLM server (`progress_url`): a heartbeat keeps a long job alive by moving its callback deadline
 * to at least now + LLM_CALLBACK_TIMEOUT_SECONDS, never past LLM_JOB_MAX_SECONDS after its forward.
 */
type Fields = { value: number | null; stage: string | null; message: string | null };

/** Heartbeats of one job held back within its second: their count, the latest fields, the pending write. */
interface Held {
  beats: number;
  fields: Fields;
  timer: NodeJS.Timeout;
}

@Injectable()
export class ProgressService implements OnModuleDestroy {
  private readonly held = new Map<string, Held>();
  private readonly limits: { timeoutMs: number; maxMs: number };

  constructor(
    private readonly jobs: JobsService,
    private readonly queries: JobQueriesRepository,
    @Inject(CONFIG) config: RelayConfig,
  ) {
    this.limits = { timeoutMs: Math.round(config.llmCallbackTimeoutSeconds * 1000), maxMs: config.llmJobMaxMs };
  }

  /**
   * The job's credential as for the callback (401 otherwise; 404 for no such job). While the job is processing its
   * progress is recorded and its deadline moved on (`taken`); for any other status nothing changes. At most one write
   * per job per second: heartbeats within it are held here and written together, with the latest fields, when the
   * second is over (a replica that stops meanwhile loses only that count).
   */
  async accept(
    jobId: string,
    token: string | undefined,
    progress: LlmProgressDto,
  ): Promise<{ taken: boolean; ack: ProgressAckDto }> {
    const job = await this.queries.getJob(jobId);
    if (!tokenMatches(token, job.callbackTokenHashes)) throw new CallbackUnauthorizedError();
    if (job.status !== 'processing') return { taken: false, ack: { job_id: job.id, status: job.status } };
    const given: Fields = {
      value: progress.progress ?? null,
      stage: progress.stage ?? null,
      message: progress.message ?? null,
    };
    const held = this.held.get(job.id);
    if (held) {
      // Within the second of the last write: counted here, written with the latest fields when the second is over.
      held.beats += 1;
      held.fields = merged(held.fields, given);
    } else if (!(await this.jobs.recordProgress(job.id, given, 1, this.limits))) {
      this.hold(job.id, given, job.progressUpdatedAt);
    }
    return { taken: true, ack: { job_id: job.id, status: 'processing' } };
  }

  onModuleDestroy(): void {
    for (const held of this.held.values()) clearTimeout(held.timer);
    this.held.clear();
  }

  /** Holds a heartbeat that came within a second of the job's last write, and writes it (with later ones) after. */
  private hold(jobId: string, fields: Fields, lastWrite: number | null): void {
    if (this.held.size >= MAX_HELD_JOBS) return;
    // Written as soon as the second since the last write is over (by the database's clock, read with the job).
    const wait = lastWrite === null ? COALESCE_MS : lastWrite + COALESCE_MS - Date.now();
    const timer = setTimeout(() => void this.flush(jobId), Math.min(Math.max(wait, 0), COALESCE_MS) + 20);
    timer.unref();
    this.held.set(jobId, { beats: 1, fields, timer });
  }

  private async flush(jobId: string): Promise<void> {
    const held = this.held.get(jobId);
    if (!held) return;
    this.held.delete(jobId);
    // A job that finished meanwhile matches nothing: its held heartbeats go with it.
    await this.jobs.recordProgress(jobId, held.fields, held.beats, this.limits).catch(() => undefined);
  }
}

/** The later report's fields, the earlier one's where the later left one out. */
function merged(earlier: Fields, later: Fields): Fields {
  return {
    value: later.value ?? earlier.value,
    stage: later.stage ?? earlier.stage,
    message: later.message ?? earlier.message,
  };
}
