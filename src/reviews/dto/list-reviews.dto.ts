import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { ClientIdFilter } from './client-filter';
import { JOB_STATUSES, type JobStatus } from '../../jobs/job-status';

/** Past this many skipped rows a page costs as much as reading them: offsets stop here, cursors go on. */
export const MAX_OFFSET = 10_000;

/** What `Date.parse` reads the same everywhere: a full date and time, and a zone (no week dates, no local time). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

export class ListReviewsQueryDto {
  @ClientIdFilter()
  client_id?: string;

  /** Only jobs in this status. */
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;

  /** Only jobs for this submission. */
  @IsOptional()
  @IsString()
  @Length(1, 200)
  submission_id?: string;

  /** Page size (1 to 100). */
  @ApiPropertyOptional({ type: 'integer', default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  /** Only jobs created at or after this time (RFC 3339, with `Z` or an offset). */
  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @Matches(RFC3339, {
    message: 'created_after must be an RFC 3339 date-time with a time zone, e.g. 2026-11-27T08:00:00Z',
  })
  created_after?: string;

  /** Only jobs created before this time (RFC 3339, with `Z` or an offset). */
  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @Matches(RFC3339, {
    message: 'created_before must be an RFC 3339 date-time with a time zone, e.g. 2026-11-27T08:00:00Z',
  })
  created_before?: string;

  /** `next_cursor` of the previous page, with the same filters: the page after it. The way to page through a large history. */
  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a next_cursor value given by the relay' })
  cursor?: string;

  /** Jobs to skip, newest first (up to 10,000; use `cursor` beyond). Not together with `cursor`. */
  @ApiPropertyOptional({ type: 'integer', default: 0, maximum: MAX_OFFSET })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  offset: number = 0;

  /** `true`: also count the matching jobs (`total`). Costs a pass over every match: avoid on large histories. */
  @ApiPropertyOptional({ type: 'boolean', default: false })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'include_total must be true or false' })
  include_total?: boolean;
}
