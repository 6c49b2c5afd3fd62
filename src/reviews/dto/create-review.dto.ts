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
} from 'class-validator';
import { FreeFormJson, IsHttpUrl, MaxJsonBytes } from '../../common/validators';

export const MAX_FILE_REFS = 100;
export const MAX_METADATA_BYTES = 16 * 1024;

export class FileRefDto {
  /**
   * Where the LLM can fetch the file (absolute http or https URL).
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
   * The student who made the submission.
   * @example "stu-42"
   */
  @IsOptional()
  @IsString()
  @Length(1, 200)
  student_id?: string;

  /** Files for the LLM to review (1 to 100). */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_FILE_REFS)
  @ValidateNested({ each: true, message: 'must be an object with a url' })
  @Type(() => FileRefDto)
  file_refs: FileRefDto[];

  /**
   * Free-form JSON object passed to the LLM as is (at most 16 KiB).
   * @example {"course": "ML-101"}
   */
  @IsOptional()
  @FreeFormJson()
  @IsObject()
  @MaxJsonBytes(MAX_METADATA_BYTES)
  metadata?: Record<string, unknown>;

  /**
   * Where the relay posts the signed result (absolute http or https URL).
   * @example "https://your-webservice.example.com/api/reviews/callback"
   */
  @IsHttpUrl()
  webhook_url: string;
}
