import { Injectable } from '@nestjs/common';
import { assertVisible, type Caller } from '../clients/caller';
import { JobFinishedError, JobNotFinishedError } from '../common/domain-errors';
import { Job } from '../jobs/job.entity';
import { JobQueriesRepository } from '../jobs/job-queries.repository';
import { JobsService } from '../jobs/jobs.service';
import { CancelNoticeService } from '../llm-server/cancel-notice.service';
import { WorkSignal } from '../scheduler/work-signal';

/** What the web service (or an operator) does to a job after intake: cancel it, or have its result delivered again. */
@Injectable()
export class ReviewActionsService {
  constructor(
    private readonly jobs: JobsService,
    private readonly queries: JobQueriesRepository,
    private readonly work: WorkSignal,
    private readonly cancelNotices: CancelNoticeService,
  ) {}

  /**
   * The web service no longer wants the review: the job ends cancelled unless its result was already delivered or
   * given up on (409); cancelling again is a no-op. The freed LLM slot is used at once, and the LLM is told when it
   * may hold the job and LLM_CANCEL_PATH is set.
   */
  async cancel(caller: Caller, jobId: string): Promise<Pick<Job, 'id' | 'status'>> {
    if (caller.role === 'client') assertVisible(caller, await this.queries.getJob(jobId));
    const { cancelled, from } = await this.jobs.cancel(jobId, (job) => this.cancelNotices.noticeDue(job));
    if (!cancelled && from !== 'cancelled') throw new JobFinishedError(from);
    if (cancelled) this.work.kick();
    return { id: jobId, status: 'cancelled' };
  }

  async redeliver(caller: Caller, jobId: string): Promise<Job> {
    const job = assertVisible(caller, await this.queries.getJob(jobId));
    // Not requeued: it moved meanwhile (or retention deleted it, which the re-read answers with 404).
    if (!(await this.jobs.requeueDelivery(job.id)))
      throw new JobNotFinishedError((await this.queries.getJob(job.id)).status);
    this.work.kick();
    return this.queries.getJob(job.id);
  }
}
