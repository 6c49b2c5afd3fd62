import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsObject,
  IsOptional,
  IsString,
  Length,
  ValidateNested,
  IsIn,
} from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { DEFAULT_PRIORITY, PRIORITIES, type Priority } from '../../jobs/job-priority';
import { FreeFormJson, IsHttpUrl, MaxJsonBytes } from '../../common/validators';

export const MAX_FILE_REFS = 100;
export const MAX_METADATA_BYTES = 16 * 1024;

export class FileRefDto {
  /**
   * Where the LLM can fetch the file: an absolute http or https URL of at most 2048 characters, without credentials
   * or whitespace.
   * @example "https://files.example.com/submissions/subm-001/report.pdf"
   */
  @IsHttpUrl()
  url: string;

  /**
   * File name shown to the LLM.
   * @example "report.pdf"
   */
  @IsOptional()
  @IsString()
  @Length(1, 255)
  name?: string;

  /**
   * Media type of the file.
   * @example "application/pdf"
   */
  @IsOptional()
  @IsString()
  @Length(1, 255)
  content_type?: string;
}

export class CreateReviewDto {
  /**
   * The web service's id for the submission under review.
   * @example "subm-001"
   */
  @IsString()
  @Length(1, 200)
  submission_id: string;

  /**
   * The student who made the submission (null is the same as leaving it out).
   * @example "stu-42"
   */
  @ApiProperty({ required: false, nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  student_id?: string;

  /** Files for the LLM to review (1 to 100). */
  @ApiProperty({ type: [FileRefDto], maxItems: MAX_FILE_REFS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_FILE_REFS)
  @ValidateNested({ each: true, message: 'must be an object with a url' })
  @Type(() => FileRefDto)
  file_refs: FileRefDto[];

  /**
   * Free-form JSON object passed to the LLM exactly as sent, whatever its keys; at most 16 KiB as JSON (null is the
   * same as leaving it out). Integers must be exact as IEEE-754 doubles (up to 2^53), or be sent as strings.
   * @example {"course": "ML-101"}
   */
  @ApiProperty({ required: false, nullable: true, type: Object, additionalProperties: true })
  @IsOptional()
  @FreeFormJson()
  @IsObject()
  @MaxJsonBytes(MAX_METADATA_BYTES)
  metadata?: Record<string, unknown>;

  /**
   * Where the relay posts the signed result: an absolute http or https URL of at most 2048 characters, without
   * credentials or whitespace. Unless ALLOW_PRIVATE_WEBHOOK_URLS is on, it must resolve to a public address (422).
   * @example "https://your-webservice.example.com/api/reviews/callback"
   */
  @IsHttpUrl()
  webhook_url: string;

  /**
   * The order of its forward among the client's own waiting jobs: higher first, oldest first within a level. It never
   * takes another client's turn.
   */
  @ApiProperty({ required: false, enum: PRIORITIES, default: DEFAULT_PRIORITY })
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: Priority;
}
