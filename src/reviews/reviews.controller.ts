import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiResponse,
  ApiTooManyRequestsResponse,
  ApiServiceUnavailableResponse,
  ApiUnprocessableEntityResponse,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { type Caller, readScope } from '../clients/caller';
import { CallerGuard, CurrentCaller } from '../clients/caller.guard';
import { API_KEY_SCHEME, BEARER_SCHEME } from '../http/api-key';
import { DomainError } from '../common/domain-errors';
import { DATABASE_UNAVAILABLE_RESPONSE, ErrorBodyDto } from '../common/error-body.dto';
import { ClientFilterQueryDto } from './dto/client-filter';
import { CreateReviewDto } from './dto/create-review.dto';
import { ListReviewsQueryDto } from './dto/list-reviews.dto';
import { ReviewChangesDto, ReviewChangesQueryDto } from './dto/review-changes.dto';
import { ReviewSummaryDto } from './dto/review-summary.dto';
import { AttemptListDto, ReviewAcceptedDto, ReviewDto, ReviewListDto } from './dto/review.dto';
import { IntakeAdmissionGuard } from './intake-admission.guard';
import { ReviewActionsService } from './review-actions.service';
import { ReviewQueriesService } from './review-queries.service';
import { ReviewSummaryService } from './review-summary.service';
import { ReviewsService } from './reviews.service';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@ApiTags('reviews')
@ApiSecurity(API_KEY_SCHEME)
@ApiBearerAuth(BEARER_SCHEME)
@ApiUnauthorizedResponse({ description: 'Missing or unknown API key', type: ErrorBodyDto })
@ApiForbiddenResponse({
  description:
    "`client_disabled`: the key's client is disabled; `admin_key_cannot_submit`: admin keys read and act but do not " +
    "submit; `admin_key_required`: a client's key named another client_id",
  type: ErrorBodyDto,
})
@UseGuards(CallerGuard)
@Controller('v1/reviews')
export class ReviewsController {
  constructor(
    private readonly reviews: ReviewsService,
    private readonly queries: ReviewQueriesService,
    private readonly actions: ReviewActionsService,
    private readonly summaries: ReviewSummaryService,
  ) {}

  @Post()
  @HttpCode(202)
  @UseGuards(ThrottlerGuard, IntakeAdmissionGuard)
  @ApiOperation({
    summary: 'Submit a review job',
    description: 'Stores the job and answers at once; the result arrives at webhook_url.',
  })
  @ApiHeader({
    name: 'idempotency-key',
    required: false,
    description: 'Same key and body → the same job (answered with its current status); same key, other body → 409',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source, minLength: 1, maxLength: 255 },
  })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorBodyDto })
  @ApiConflictResponse({ description: 'Idempotency-Key reused with another body', type: ErrorBodyDto })
  @ApiResponse({ status: 413, description: 'Body over INTAKE_MAX_BODY_BYTES', type: ErrorBodyDto })
  @ApiResponse({ status: 415, description: 'Body is not JSON', type: ErrorBodyDto })
  @ApiUnprocessableEntityResponse({
    description:
      "`webhook_url_not_allowed`: webhook_url points at a non-public address, or outside the client's webhook_url_prefixes",
    type: ErrorBodyDto,
  })
  @ApiTooManyRequestsResponse({
    description: 'Intake rate limit for this API key; see Retry-After',
    type: ErrorBodyDto,
  })
  @ApiServiceUnavailableResponse({
    description:
      'Nothing was stored; retry after Retry-After. `backlog_full`: INTAKE_MAX_BACKLOG jobs are waiting to be forwarded; `overloaded`: the event loop runs later than INTAKE_MAX_EVENT_LOOP_DELAY_MS; `database_unavailable`: the database does not answer',
    type: ErrorBodyDto,
  })
  async create(
    @CurrentCaller() caller: Caller,
    @Body() dto: CreateReviewDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<ReviewAcceptedDto> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new DomainError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    return ReviewAcceptedDto.from(await this.reviews.submit(caller, dto, idempotencyKey));
  }

  @Get()
  @ApiOperation({ summary: 'List jobs, newest first' })
  @ApiBadRequestResponse({ description: 'Invalid filter or page', type: ErrorBodyDto })
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  list(@CurrentCaller() caller: Caller, @Query() query: ListReviewsQueryDto): Promise<ReviewListDto> {
    return this.queries.list(caller, query);
  }

  // Before ':job_id', which would otherwise take "changes" for a job id.
  @Get('changes')
  @ApiOperation({
    summary: 'Jobs whose status changed after a cursor, in commit order (catch-up feed)',
    description: 'Each job in its current state; follow next_cursor to never miss a change. See the README.',
  })
  @ApiBadRequestResponse({ description: 'Invalid cursor (`invalid_cursor`) or limit', type: ErrorBodyDto })
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  changes(@CurrentCaller() caller: Caller, @Query() query: ReviewChangesQueryDto): Promise<ReviewChangesDto> {
    return this.queries.changes(caller, query);
  }

  // Before ':job_id' too.
  @Get('summary')
  @ApiOperation({
    summary:
      'Jobs by status, the LLM queue, the oldest pending job, and delivery attempts per minute over the last hour',
    description:
      "What the console's overview shows: the caller's own jobs and deliveries (admin keys: every client's, or one " +
      "client's with client_id); the LLM's figures are the relay's. Its cost does not grow with the history: the counts come from a table of " +
      'counts kept by the database, the LLM figures from a small partial index, the oldest pending job from the first ' +
      "entry of an index per active status, and the last hour from a walk back along the attempts' primary key from " +
      'the newest row, counted per minute by the database 2,000 rows at a time, which stops past the hour or after ' +
      '50,000 rows (then `partial_before` says from when the minutes are complete), handing the thread back between ' +
      'ranges. Measured costs: docs/PERFORMANCE.md (`npm run bench:history`).',
  })
  @ApiBadRequestResponse({ description: 'Invalid client_id', type: ErrorBodyDto })
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  async summary(@CurrentCaller() caller: Caller, @Query() query: ClientFilterQueryDto): Promise<ReviewSummaryDto> {
    return ReviewSummaryDto.from(await this.summaries.read(readScope(caller, query.client_id)));
  }

  @Get(':job_id')
  @ApiOperation({ summary: 'Read a job: status, result and delivery summary' })
  @ApiNotFoundResponse({ description: 'No such job', type: ErrorBodyDto })
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  get(@CurrentCaller() caller: Caller, @Param('job_id') jobId: string): Promise<ReviewDto> {
    return this.queries.describe(caller, jobId);
  }

  @Get(':job_id/attempts')
  @ApiOperation({ summary: "The job's timeline: every forward and delivery attempt" })
  @ApiNotFoundResponse({ description: 'No such job', type: ErrorBodyDto })
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  attempts(@CurrentCaller() caller: Caller, @Param('job_id') jobId: string): Promise<AttemptListDto> {
    return this.queries.attempts(caller, jobId);
  }

  @Post(':job_id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel a job whose result is not delivered yet',
    description:
      'The job ends cancelled and nothing is delivered (a delivery already on its way may still arrive). Its LLM slot ' +
      '(LLM_MAX_IN_FLIGHT) is freed at once; if the LLM may hold it and LLM_CANCEL_PATH is set, the LLM is told. ' +
      'Cancelling a cancelled job again answers the same.',
  })
  @ApiNotFoundResponse({ description: 'No such job', type: ErrorBodyDto })
  @ApiConflictResponse({
    description: 'The job is already delivered or delivery_failed (job_finished)',
    type: ErrorBodyDto,
  })
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  async cancel(@CurrentCaller() caller: Caller, @Param('job_id') jobId: string): Promise<ReviewAcceptedDto> {
    return ReviewAcceptedDto.from(await this.actions.cancel(caller, jobId));
  }

  @Post(':job_id/redeliver')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deliver a finished job again (e.g. after delivery_failed)' })
  @ApiNotFoundResponse({ description: 'No such job', type: ErrorBodyDto })
  @ApiConflictResponse({ description: 'The job is not finished yet', type: ErrorBodyDto })
  @ApiServiceUnavailableResponse(DATABASE_UNAVAILABLE_RESPONSE)
  async redeliver(@CurrentCaller() caller: Caller, @Param('job_id') jobId: string): Promise<ReviewAcceptedDto> {
    return ReviewAcceptedDto.from(await this.actions.redeliver(caller, jobId));
  }
}
