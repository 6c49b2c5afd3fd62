import { IsNumber, IsString, Length, Max, Min } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import type { JobStatus } from '../../jobs/job-status';
import { IsOptionalNotNull } from '../../common/validators';

/** A heartbeat of a job the LLM server is still working on; every field optional (an empty body is a heartbeat). */
export class LlmProgressDto {
  /**
   * How far along, from 0 to 1.
   * @example 0.4
   */
  @IsOptionalNotNull()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  progress?: number;

  /** @example "grading section 3" */
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 100)
  stage?: string;

  /** @example "Long submission: about two more minutes" */
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 500)
  message?: string;
}

export class ProgressAckDto {
  job_id: string;
  /** `processing` when the heartbeat was taken; any other status: the job is no longer worked on, nothing changed. */
  @ApiProperty({ example: 'processing' })
  status: JobStatus;
}
