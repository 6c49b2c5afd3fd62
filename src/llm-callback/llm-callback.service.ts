import { Injectable } from '@nestjs/common';
import { CallbackUnauthorizedError, ResultConflictError } from '../common/domain-errors';
import { WorkScheduler } from '../delivery/work.scheduler';
import { tokenMatches } from '../jobs/callback-token';
import { outcomeOf } from '../jobs/job-outcome';
import { JobTimelineService } from '../jobs/job-timeline.service';
import { JobOutcome, JobsService } from '../jobs/jobs.service';
import { CallbackAckDto, LlmCallbackDto } from './dto/llm-callback.dto';

/**
 * Records the LLM's answer: the first genuine result wins; repeats never cause a second delivery; a result for a
 * cancelled job is acknowledged and dropped.
 */
@Injectable()
export class LlmCallbackService {
  constructor(
    private readonly jobs: JobsService,
    private readonly timeline: JobTimelineService,
    private readonly scheduler: WorkScheduler,
  ) {}

  async acceptCallback(jobId: string, token: string | undefined, callback: LlmCallbackDto): Promise<CallbackAckDto> {
    const job = await this.timeline.getJob(jobId);
    if (!tokenMatches(token, job.callbackTokenHashes)) throw new CallbackUnauthorizedError();
    return this.recordResult(job.id, callback);
  }

  /** The callback path without the credential check, shared with the developer's simulation endpoint. */
  async recordResult(jobId: string, callback: LlmCallbackDto): Promise<CallbackAckDto> {
    const outcome = toOutcome(callback);
    if (await this.jobs.recordOutcome(jobId, outcome)) {
      this.scheduler.kick();
      return { job_id: jobId, status: 'accepted' };
    }
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
