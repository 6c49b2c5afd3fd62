import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { JOB_STATUSES, type JobStatus } from '../../jobs/job-status';

export class ListReviewsQueryDto {
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

  /** Jobs to skip, newest first. */
  @ApiPropertyOptional({ type: 'integer', default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset: number = 0;
}
