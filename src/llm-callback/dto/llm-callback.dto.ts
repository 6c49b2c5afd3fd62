import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsBoolean, IsObject, IsOptional, IsString, Length, ValidateBy, ValidateNested } from 'class-validator';
import { ApiAnyJson } from '../../common/openapi-schema';
import { FreeFormJson, IsJsonValue, IsOptionalNotNull } from '../../common/validators';

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
   * The review, passed to the web service as is (any JSON value; with RESULT_SCHEMA set, an ok result must match it,
   * and the document types it as ReviewResult).
   * @example {"score": 0.86, "feedback": "Clear structure; the conclusion needs evidence."}
   */
  @ResultField()
  result?: unknown;

  /** Why the review failed, when ok is false: an object with a code, a message, or both. */
  @LlmErrorField()
  error?: LlmErrorDto;
}

/** The callback's `result`: any JSON value, passed on exactly as received. */
export function ResultField(): PropertyDecorator {
  return applyDecorators(IsOptional(), FreeFormJson(), IsJsonValue(), ApiAnyJson(false));
}

/** The callback's `error`: optional, but when present an object with a code or a message (never null, [] or {}). */
export function LlmErrorField(): PropertyDecorator {
  return applyDecorators(
    IsOptionalNotNull(),
    IsObject(),
    HasCodeOrMessage(),
    ValidateNested(),
    Type(() => LlmErrorDto),
  );
}

function HasCodeOrMessage(): PropertyDecorator {
  return ValidateBy({
    name: 'hasCodeOrMessage',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' && value !== null && ('code' in value || 'message' in value),
      defaultMessage: () => 'must have a code, a message, or both',
    },
  });
}

export class CallbackAckDto {
  /** @example "job_3f9c2a7be0d14c55a1e6b0c7d8e9f012" */
  job_id: string;
  /**
   * accepted: this call recorded the result; duplicate: the same result was already recorded (nothing changes);
   * cancelled: the web service cancelled the job, so the result is dropped (stop retrying).
   * @example "accepted"
   */
  status: 'accepted' | 'duplicate' | 'cancelled';
}
