import { Injectable } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { type Caller, submittingClient } from '../clients/caller';
import { canonicalJson, sha256Hex } from '../common/canonical-json';
import { IdempotencyConflictError } from '../common/domain-errors';
import { Job } from '../jobs/job.entity';
import { DEFAULT_PRIORITY, priorityRank } from '../jobs/job-priority';
import { JobQueriesRepository } from '../jobs/job-queries.repository';
import { JobsService } from '../jobs/jobs.service';
import { WorkSignal } from '../scheduler/work-signal';
import { CreateReviewDto } from './dto/create-review.dto';
import { WebhookUrlPolicy } from './webhook-url.policy';

/** Intake: a review job stored once per request (and per Idempotency-Key), its forward started at once. */
@Injectable()
export class ReviewsService {
  constructor(
    private readonly jobs: JobsService,
    private readonly queries: JobQueriesRepository,
    private readonly work: WorkSignal,
    private readonly webhookUrls: WebhookUrlPolicy,
  ) {}

  /** Stores the job and returns at once; the forward starts right after the commit, not at the next tick. */
  async submit(
    caller: Caller,
    dto: CreateReviewDto,
    idempotencyKey: string | undefined,
  ): Promise<Pick<Job, 'id' | 'status'>> {
    const client = submittingClient(caller);
    const requestHash = sha256Hex(canonicalJson(dto));
    // Keys are per client: the stored key is `<client_id>:<key>` (client ids hold no `:`).
    const scopedKey = idempotencyKey ? `${client.id}:${idempotencyKey}` : null;
    if (scopedKey) {
      const existing = await this.queries.findByIdempotencyKey(scopedKey);
      if (existing) return sameRequestOrConflict(existing, requestHash);
    }
    await this.webhookUrls.assertAllowed(dto.webhook_url, client.webhookUrlPrefixes);
    let job: Pick<Job, 'id' | 'status'>;
    try {
      job = await this.jobs.create({
        clientId: client.id,
        priority: priorityRank(dto.priority ?? DEFAULT_PRIORITY),
        submissionId: dto.submission_id,
        studentId: dto.student_id ?? null,
        fileRefs: dto.file_refs.map((ref) => ({ ...ref })),
        metadata: dto.metadata ?? null,
        webhookUrl: dto.webhook_url,
        idempotencyKey: scopedKey,
        requestHash,
      });
    } catch (error) {
      // Two requests with one key raced: the loser answers with the winner's job.
      const winner = scopedKey && isUniqueViolation(error) ? await this.queries.findByIdempotencyKey(scopedKey) : null;
      if (!winner) throw error;
      return sameRequestOrConflict(winner, requestHash);
    }
    this.work.kick();
    return job;
  }
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
