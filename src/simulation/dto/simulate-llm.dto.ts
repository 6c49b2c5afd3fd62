import { Allow, IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { IsJsonValue } from '../../common/validators';

export class SimulateLlmDto {
  /**
   * Whether the simulated review succeeded (default true).
   * @example true
   */
  @IsOptional()
  @IsBoolean()
  ok?: boolean;

  /**
   * The result to feed; omitted, a plausible one is generated.
   * @example {"score": 0.9, "feedback": "Looks good"}
   */
  @IsOptional()
  @IsJsonValue()
  result?: unknown;
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
}
