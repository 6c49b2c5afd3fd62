import { Inject, Injectable, Logger } from '@nestjs/common';
import { CallbackUnauthorizedError, InvalidResultError, ResultConflictError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';
import { WorkScheduler } from '../delivery/work.scheduler';
import { tokenMatches } from '../jobs/callback-token';
import { outcomeOf } from '../jobs/job-outcome';
import { JobTimelineService } from '../jobs/job-timeline.service';
import { JobOutcome, JobsService } from '../jobs/jobs.service';
import { CallbackAckDto, LlmCallbackDto } from './dto/llm-callback.dto';

/** Room for the description after the prefix of an invalid_result message (error_message holds 1000 characters). */
const MAX_REJECTION_LENGTH = 880;
/** An attempt row's error holds 500 characters. */
const MAX_ATTEMPT_ERROR_LENGTH = 500;
/**
 * Refused results recorded in a job's timeline (and logged); past this an LLM looping on 422 until the deadline
 * still gets its answer and the job still keeps the latest reason and the count, but adds no more rows.
 */
export const MAX_RECORDED_REJECTIONS = 20;

/**
 * Records the LLM's answer: the first genuine result wins; repeats never cause a second delivery; a result for a
 * cancelled job is acknowledged and dropped.
 */
@Injectable()
export class LlmCallbackService {
  private readonly logger = new Logger('Callbacks');

  constructor(
    private readonly jobs: JobsService,
    private readonly timeline: JobTimelineService,
    private readonly scheduler: WorkScheduler,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  async acceptCallback(jobId: string, token: string | undefined, callback: LlmCallbackDto): Promise<CallbackAckDto> {
    const job = await this.timeline.getJob(jobId);
    if (!tokenMatches(token, job.callbackTokenHashes)) throw new CallbackUnauthorizedError();
    return this.recordResult(job.id, callback);
  }

  /**
   * The callback path without the credential check, shared with the developer's simulation endpoint. A successful
   * result is checked against RESULT_SCHEMA first; a failure report is not (it has no result to check).
   */
  async recordResult(jobId: string, callback: LlmCallbackDto): Promise<CallbackAckDto> {
    const outcome = toOutcome(callback);
    const problems = callback.ok && this.config.resultSchema ? this.config.resultSchema.problemsOf(callback.result) : [];
    if (problems.length > 0) return this.rejectResult(jobId, outcome, problems);
    if (await this.jobs.recordOutcome(jobId, outcome)) {
      this.scheduler.kick();
      return { job_id: jobId, status: 'accepted' };
    }
    return this.answerRepeat(jobId, outcome);
  }

  /**
   * While the job waits for an outcome, a result breaking the schema is refused with the reasons, so the LLM can send
   * a corrected one before the deadline; the refusal goes into the job's timeline. Once the outcome is known, the
   * call is a repeat like any other.
   */
  private async rejectResult(jobId: string, outcome: JobOutcome, problems: string[]): Promise<CallbackAckDto> {
    const description = clip(problems.join('; '), MAX_REJECTION_LENGTH);
    const rejections = await this.jobs.recordRejectedResult(jobId, description);
    if (rejections === null) return this.answerRepeat(jobId, outcome);
    if (rejections > MAX_RECORDED_REJECTIONS) throw new InvalidResultError(problems);
    await this.timeline.recordAttempt({
      jobId,
      leg: 'callback',
      attemptNo: rejections,
      round: null,
      target: `/v1/llm/callback/${jobId}`,
      statusCode: 422,
      outcome: 'rejected',
      error: clip(description, MAX_ATTEMPT_ERROR_LENGTH),
      durationMs: 0,
      startedAt: Date.now(),
    });
    this.logger.log(`callback job=${jobId} attempt=${rejections} status=422 outcome=rejected: ${description}`);
    throw new InvalidResultError(problems);
  }

  private async answerRepeat(jobId: string, outcome: JobOutcome): Promise<CallbackAckDto> {
    const current = await this.timeline.getJob(jobId);
    // The web service withdrew the job: the LLM may stop retrying, and nothing is delivered.
    if (current.status === 'cancelled') return { job_id: jobId, status: 'cancelled' };
    if (current.outcomeHash === outcome.outcomeHash) return { job_id: jobId, status: 'duplicate' };
    throw new ResultConflictError();
  }
}

function toOutcome(callback: LlmCallbackDto): JobOutcome {
  if (callback.ok) return outcomeOf(true, callback.result, null);
  const own = callback.error;
  const message = [own?.code, own?.message ?? 'The LLM reported a failure'].filter(Boolean).join(': ');
  return outcomeOf(false, callback.result, { code: 'llm_error', message });
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
