import { Allow, IsBoolean, IsString, Length } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validators';
import { LlmErrorDto, LlmErrorField, ResultField } from '../../llm-callback/dto/llm-callback.dto';

/** The LLM callback's body, with every field optional: an empty body feeds a generated successful review. */
export class SimulateLlmDto {
  /**
   * Whether the simulated review succeeded (default true).
   * @example true
   */
  @IsOptionalNotNull()
  @IsBoolean()
  ok?: boolean;

  /**
   * The result to feed, passed on exactly as sent (any JSON value); omitted with ok true, a plausible one is generated.
   * @example {"score": 0.9, "feedback": "Looks good"}
   */
  @ResultField()
  result?: unknown;

  /** Why the simulated review failed, when ok is false: an object with a code, a message, or both. */
  @LlmErrorField()
  error?: LlmErrorDto;
}

/** What the built-in simulated LLM server needs from a forwarded job. */
export class SimulatedForwardDto {
  @IsString()
  @Length(1, 40)
  job_id: string;

  @IsString()
  @Length(1, 200)
  callback_token: string;

  // The rest of the forward body: accepted and ignored, as a real LLM server would.
  @Allow() submission_id?: unknown;
  @Allow() student_id?: unknown;
  @Allow() file_refs?: unknown;
  @Allow() metadata?: unknown;
  @Allow() callback_url?: unknown;
  @Allow() progress_url?: unknown;
}
