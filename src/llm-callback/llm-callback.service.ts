import { Injectable } from '@nestjs/common';
import { CallbackUnauthorizedError, InvalidResultError, ResultConflictError } from '../common/domain-errors';
import { WorkSignal } from '../scheduler/work-signal';
import { tokenMatches } from '../jobs/callback-token';
import { assertVisible, type Caller } from '../clients/caller';
import type { Job } from '../jobs/job.entity';
import { type JobOutcome, outcomeOf } from '../jobs/job-outcome';
import { JobQueriesRepository } from '../jobs/job-queries.repository';
import { JobsService } from '../jobs/jobs.service';
import { CallbackAckDto, LlmCallbackDto } from './dto/llm-callback.dto';
import { ResultContractService } from './result-contract.service';

/**
 * Records the LLM's answer: the first genuine result wins; repeats never cause a second delivery; a result for a
 * cancelled job is acknowledged and dropped.
 */
@Injectable()
export class LlmCallbackService {
  constructor(
    private readonly jobs: JobsService,
    private readonly queries: JobQueriesRepository,
    private readonly work: WorkSignal,
    private readonly contract: ResultContractService,
  ) {}

  async acceptCallback(jobId: string, token: string | undefined, callback: LlmCallbackDto): Promise<CallbackAckDto> {
    const job = await this.queries.getJob(jobId);
    if (!tokenMatches(token, job.callbackTokenHashes)) throw new CallbackUnauthorizedError();
    return this.recordResult(job, callback);
  }

  /** The developer's simulation of a callback: the caller's own job (another client's is answered as unknown). */
  async simulateCallback(caller: Caller, jobId: string, callback: LlmCallbackDto): Promise<CallbackAckDto> {
    const job = assertVisible(caller, await this.queries.getJob(jobId));
    return this.recordResult(job, callback);
  }

  /**
   * The callback path past the credential check, shared with the developer's simulation endpoint. A successful
   * result is checked against RESULT_SCHEMA first; a failure report is not (it has no result to check).
   */
  private async recordResult(
    job: Pick<Job, 'id' | 'clientId' | 'llmServer'>,
    callback: LlmCallbackDto,
  ): Promise<CallbackAckDto> {
    const jobId = job.id;
    const outcome = toOutcome(callback);
    const problems = this.contract.problemsOf(callback);
    if (problems.length > 0) return this.rejectResult(job, outcome, problems);
    if (await this.jobs.recordOutcome(jobId, outcome)) {
      this.work.kick();
      return { job_id: jobId, status: 'accepted' };
    }
    return this.answerRepeat(jobId, outcome);
  }

  /**
   * While the job waits for an outcome, a result breaking the schema is refused with the reasons, so the LLM can send
   * a corrected one before the deadline; the refusal goes into the job's timeline. Once the outcome is known, the
   * call is a repeat like any other.
   */
  private async rejectResult(
    job: Pick<Job, 'id' | 'clientId' | 'llmServer'>,
    outcome: JobOutcome,
    problems: string[],
  ): Promise<CallbackAckDto> {
    const rejections = await this.contract.recordRejection(job, problems);
    if (rejections === null) return this.answerRepeat(job.id, outcome);
    throw new InvalidResultError(problems);
  }

  private async answerRepeat(jobId: string, outcome: JobOutcome): Promise<CallbackAckDto> {
    const current = await this.queries.getJob(jobId);
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
