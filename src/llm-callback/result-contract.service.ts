import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { AttemptsRepository } from '../jobs/attempts.repository';
import type { Job } from '../jobs/job.entity';
import { JobsService } from '../jobs/jobs.service';
import type { LlmCallbackDto } from './dto/llm-callback.dto';

/** Room for the description after the prefix of an invalid_result message (error_message holds 1000 characters). */
const MAX_REJECTION_LENGTH = 880;
/** An attempt row's error holds 500 characters. */
const MAX_ATTEMPT_ERROR_LENGTH = 500;
/**
 * Refused results recorded in a job's timeline (and logged); past this an LLM looping on 422 until the deadline
 * still gets its answer and the job still keeps the latest reason and the count, but adds no more rows.
 */
export const MAX_RECORDED_REJECTIONS = 20;

/** RESULT_SCHEMA: which results it refuses, and what a refusal leaves in the job and its timeline. */
@Injectable()
export class ResultContractService {
  private readonly logger = new Logger('Callbacks');

  constructor(
    private readonly jobs: JobsService,
    private readonly attempts: AttemptsRepository,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  /** What is wrong with a successful result (none without RESULT_SCHEMA); a failure report has no result to check. */
  problemsOf(callback: LlmCallbackDto): string[] {
    return callback.ok && this.config.resultSchema ? this.config.resultSchema.problemsOf(callback.result) : [];
  }

  /**
   * While the job waits for an outcome, a refused result is kept as the job's latest reason and counted, and goes
   * into its timeline (up to MAX_RECORDED_REJECTIONS rows). Returns the count, or null when the job is not waiting
   * (its outcome is known, or there is no such job).
   */
  async recordRejection(job: Pick<Job, 'id' | 'clientId' | 'llmServer'>, problems: string[]): Promise<number | null> {
    const jobId = job.id;
    const description = clip(problems.join('; '), MAX_REJECTION_LENGTH);
    const rejections = await this.jobs.recordRejectedResult(jobId, description);
    if (rejections === null || rejections > MAX_RECORDED_REJECTIONS) return rejections;
    await this.attempts.record({
      jobId,
      clientId: job.clientId,
      leg: 'callback',
      attemptNo: rejections,
      round: null,
      target: `/v1/llm/callback/${jobId}`,
      llmServer: job.llmServer,
      statusCode: 422,
      outcome: 'rejected',
      error: clip(description, MAX_ATTEMPT_ERROR_LENGTH),
      durationMs: 0,
      startedAt: Date.now(),
    });
    this.logger.log(`callback job=${jobId} attempt=${rejections} status=422 outcome=rejected: ${description}`);
    return rejections;
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
