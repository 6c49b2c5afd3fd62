import { Inject, Injectable } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { canonicalJson, sha256Hex } from '../common/canonical-json';
import { DomainError, IdempotencyConflictError, JobFinishedError, JobNotFinishedError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';
import { WorkScheduler } from '../delivery/work.scheduler';
import { Job } from '../jobs/job.entity';
import { type JobFilter, JobTimelineService } from '../jobs/job-timeline.service';
import { JobsService } from '../jobs/jobs.service';
import { CreateReviewDto } from './dto/create-review.dto';
import { ListReviewsQueryDto, MAX_OFFSET } from './dto/list-reviews.dto';
import { ReviewChangesDto, ReviewChangesQueryDto } from './dto/review-changes.dto';
import { AttemptDto, AttemptListDto, ReviewDto, ReviewListDto } from './dto/review.dto';
import { decodeFeedCursor, encodeFeedCursor, FEED_START } from './feed-cursor';
import { decodeCursor, encodeCursor } from './list-cursor';
import { WebhookUrlPolicy } from './webhook-url.policy';

@Injectable()
export class ReviewsService {
  constructor(
    private readonly jobs: JobsService,
    private readonly timeline: JobTimelineService,
    private readonly scheduler: WorkScheduler,
    private readonly webhookUrls: WebhookUrlPolicy,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  /** Stores the job and returns at once; the forward starts right after the commit, not at the next tick. */
  async submit(dto: CreateReviewDto, idempotencyKey: string | undefined): Promise<Pick<Job, 'id' | 'status'>> {
    const requestHash = sha256Hex(canonicalJson(dto));
    if (idempotencyKey) {
      const existing = await this.timeline.findByIdempotencyKey(idempotencyKey);
      if (existing) return sameRequestOrConflict(existing, requestHash);
    }
    await this.webhookUrls.assertAllowed(dto.webhook_url);
    let job: Pick<Job, 'id' | 'status'>;
    try {
      job = await this.jobs.create({
        submissionId: dto.submission_id,
        studentId: dto.student_id ?? null,
        fileRefs: dto.file_refs.map((ref) => ({ ...ref })),
        metadata: dto.metadata ?? null,
        webhookUrl: dto.webhook_url,
        idempotencyKey: idempotencyKey ?? null,
        requestHash,
      });
    } catch (error) {
      // Two requests with one key raced: the loser answers with the winner's job.
      const winner = idempotencyKey && isUniqueViolation(error) ? await this.timeline.findByIdempotencyKey(idempotencyKey) : null;
      if (!winner) throw error;
      return sameRequestOrConflict(winner, requestHash);
    }
    this.scheduler.kick();
    return job;
  }

  async describe(jobId: string): Promise<ReviewDto> {
    const job = await this.timeline.getJob(jobId);
    const review = ReviewDto.from(job, await this.timeline.lastAttempt(job.id, 'delivery'));
    if (job.status === 'queued' && job.leaseToken === null) review.queue_position = await this.jobs.queuePosition(job);
    return review;
  }

  async list(query: ListReviewsQueryDto): Promise<ReviewListDto> {
    if (query.cursor !== undefined && query.offset > 0) {
      throw new DomainError(400, 'cursor_with_offset', 'Give either cursor or offset, not both');
    }
    const filter: JobFilter = {
      status: query.status,
      submissionId: query.submission_id,
      createdFrom: epochMsOf('created_after', query.created_after),
      createdBefore: epochMsOf('created_before', query.created_before),
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      limit: query.limit,
      offset: query.offset,
    };
    const [{ items, more }, total] = await Promise.all([
      this.timeline.listJobs(filter),
      query.include_total ? this.timeline.countJobs(filter) : undefined,
    ]);
    const deliveries = await this.timeline.lastAttempts(items.map((job) => job.id), 'delivery');
    const reviews = items.map((job) => ReviewDto.from(job, deliveries.get(job.id) ?? null));
    const last = items.at(-1);
    const nextOffset = query.offset + items.length;
    return {
      items: reviews,
      limit: query.limit,
      next_cursor: more && last ? encodeCursor(last) : null,
      ...(total === undefined ? {} : { total }),
      offset: query.offset,
      next_offset: more && query.cursor === undefined && nextOffset <= MAX_OFFSET ? nextOffset : null,
    };
  }

  /** The catch-up feed: jobs whose status changed after the cursor, each in its current state, and where to go on. */
  async changes(query: ReviewChangesQueryDto): Promise<ReviewChangesDto> {
    const after = query.after === undefined ? FEED_START : decodeFeedCursor(query.after);
    const jobs = await this.timeline.listChanges(after, query.limit);
    const deliveries = await this.timeline.lastAttempts(jobs.map((job) => job.id), 'delivery');
    const last = jobs.at(-1);
    return {
      items: jobs.map((job) => ReviewDto.from(job, deliveries.get(job.id) ?? null)),
      next_cursor: encodeFeedCursor(last ? { seq: last.changeSeq, id: last.id } : after),
    };
  }

  async attempts(jobId: string): Promise<AttemptListDto> {
    const job = await this.timeline.getJob(jobId);
    const attempts = await this.timeline.listAttempts(job.id);
    return { job_id: job.id, items: attempts.map((attempt) => AttemptDto.from(attempt)) };
  }

  /**
   * The web service no longer wants the review: the job ends cancelled unless its result was already delivered or
   * given up on (409); cancelling again is a no-op. The freed LLM slot is used at once, and the LLM is told when it
   * may hold the job and LLM_CANCEL_PATH is set.
   */
  async cancel(jobId: string): Promise<Pick<Job, 'id' | 'status'>> {
    const { cancelled, from } = await this.jobs.cancel(jobId, (job) => this.llmMayHold(job));
    if (!cancelled && from !== 'cancelled') throw new JobFinishedError(from);
    if (cancelled) this.scheduler.kick();
    return { id: jobId, status: 'cancelled' };
  }

  /** Forwarded (or being forwarded, or refused with an answer that may hide an accepted job). */
  private llmMayHold(job: Job): boolean {
    if (this.config.llmCancelPath === null) return false;
    return job.status === 'processing' || (job.status === 'queued' && job.forwardAttempts > 0);
  }

  async redeliver(jobId: string): Promise<Job> {
    const job = await this.timeline.getJob(jobId);
    // Not requeued: it moved meanwhile (or retention deleted it, which the re-read answers with 404).
    if (!(await this.jobs.requeueDelivery(job.id))) throw new JobNotFinishedError((await this.timeline.getJob(job.id)).status);
    this.scheduler.kick();
    return this.timeline.getJob(job.id);
  }
}

/** A date the DTO let through as RFC 3339 but no calendar has (2026-02-30T…): 400, never NaN in a query. */
function epochMsOf(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new DomainError(400, 'invalid_date', `${name} is not a date: ${JSON.stringify(value.slice(0, 40))}`);
  return ms;
}

function sameRequestOrConflict(existing: Job, requestHash: string): Job {
  if (existing.requestHash !== requestHash) throw new IdempotencyConflictError();
  return existing;
}

function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: string } | undefined)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
