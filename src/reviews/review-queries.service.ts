import { Injectable } from '@nestjs/common';
import { assertVisible, type Caller, readScope } from '../clients/caller';
import { DomainError } from '../common/domain-errors';
import { AttemptsRepository } from '../jobs/attempts.repository';
import { type JobFilter, JobQueriesRepository } from '../jobs/job-queries.repository';
import { ListReviewsQueryDto, MAX_OFFSET } from './dto/list-reviews.dto';
import { ReviewChangesDto, ReviewChangesQueryDto } from './dto/review-changes.dto';
import { AttemptDto, AttemptListDto, ReviewDto, ReviewListDto } from './dto/review.dto';
import { decodeFeedCursor, encodeFeedCursor, FEED_START } from './feed-cursor';
import { decodeCursor, encodeCursor } from './list-cursor';

/** The web service's reads: one job, the list, the catch-up feed, a job's timeline. */
@Injectable()
export class ReviewQueriesService {
  constructor(
    private readonly queries: JobQueriesRepository,
    private readonly attemptRows: AttemptsRepository,
  ) {}

  async describe(caller: Caller, jobId: string): Promise<ReviewDto> {
    const job = assertVisible(caller, await this.queries.getJob(jobId));
    const review = ReviewDto.from(job, await this.attemptRows.last(job.id, 'delivery'));
    if (job.status === 'queued' && job.leaseToken === null)
      review.queue_position = await this.queries.queuePosition(job);
    return review;
  }

  async list(caller: Caller, query: ListReviewsQueryDto): Promise<ReviewListDto> {
    if (query.cursor !== undefined && query.offset > 0) {
      throw new DomainError('cursor_with_offset', 'Give either cursor or offset, not both');
    }
    const filter: JobFilter = {
      clientId: readScope(caller, query.client_id),
      status: query.status,
      submissionId: query.submission_id,
      createdFrom: epochMsOf('created_after', query.created_after),
      createdBefore: epochMsOf('created_before', query.created_before),
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      limit: query.limit,
      offset: query.offset,
    };
    const [{ items, more }, total] = await Promise.all([
      this.queries.listJobs(filter),
      query.include_total ? this.queries.countJobs(filter) : undefined,
    ]);
    const deliveries = await this.attemptRows.lastOfEach(
      items.map((job) => job.id),
      'delivery',
    );
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
  async changes(caller: Caller, query: ReviewChangesQueryDto): Promise<ReviewChangesDto> {
    const after = query.after === undefined ? FEED_START : decodeFeedCursor(query.after);
    const jobs = await this.queries.listChanges(after, query.limit, readScope(caller, query.client_id));
    const deliveries = await this.attemptRows.lastOfEach(
      jobs.map((job) => job.id),
      'delivery',
    );
    const last = jobs.at(-1);
    return {
      items: jobs.map((job) => ReviewDto.from(job, deliveries.get(job.id) ?? null)),
      next_cursor: encodeFeedCursor(last ? { seq: last.changeSeq, id: last.id } : after),
    };
  }

  async attempts(caller: Caller, jobId: string): Promise<AttemptListDto> {
    const job = assertVisible(caller, await this.queries.getJob(jobId));
    const attempts = await this.attemptRows.list(job.id);
    return { job_id: job.id, client_id: job.clientId, items: attempts.map((attempt) => AttemptDto.from(attempt)) };
  }
}

/** A date the DTO let through as RFC 3339 but no calendar has (2026-02-30T…): 400, never NaN in a query. */
function epochMsOf(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new DomainError('invalid_date', `${name} is not a date: ${JSON.stringify(value.slice(0, 40))}`);
  return ms;
}
