import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length, ValidateNested } from 'class-validator';
import { IsJsonValue } from '../../common/validators';

export class LlmErrorDto {
  /**
   * The LLM's own error code, kept in the message delivered to the web service.
   * @example "model_overloaded"
   */
  @IsOptional()
  @IsString()
  @Length(1, 100)
  code?: string;

  /** @example "The document could not be parsed" */
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  message?: string;
}

export class LlmCallbackDto {
  /**
   * Whether the review succeeded.
   * @example true
   */
  @IsBoolean()
  ok: boolean;

  /**
   * The review, passed to the web service as is (any JSON value).
   * @example {"score": 0.86, "feedback": "Clear structure; the conclusion needs evidence."}
   */
  @IsOptional()
  @IsJsonValue()
  result?: unknown;

  /** Why the review failed, when ok is false. */
  @IsOptional()
  @ValidateNested()
  @Type(() => LlmErrorDto)
  error?: LlmErrorDto;
}

export class CallbackAckDto {
  /** @example "job_3f9c2a7be0d14c55a1e6b0c7d8e9f012" */
  job_id: string;
  /**
   * accepted: this call recorded the result; duplicate: the same result was already recorded (nothing changes).
   * @example "accepted"
   */
  status: 'accepted' | 'duplicate';
}
