import { ApiAnyJson } from '../../common/openapi-schema';

export class JobErrorDto {
  /**
   * Why the review has no result: forward_failed (the LLM server never accepted the job), llm_timeout (no callback
   * before the deadline), llm_error (the LLM reported a failure), invalid_result (no result matching the result
   * schema before the deadline; the message says what was wrong with the last one).
   * @example "llm_timeout"
   */
  code: 'forward_failed' | 'llm_timeout' | 'llm_error' | 'invalid_result';
  /** @example "The LLM did not call back within 900 seconds" */
  message: string;
}

/** What the relay POSTs to a job's webhook_url. */
export class DeliveryPayloadDto {
  /** @example "job_3f9c2a7be0d14c55a1e6b0c7d8e9f012" */
  job_id: string;
  /** @example "subm-001" */
  submission_id: string;
  /**
   * Whether the review succeeded.
   * @example true
   */
  ok: boolean;
  /**
   * The LLM's result exactly as it sent it (any JSON value); null when there is none.
   * @example {"score": 0.86, "feedback": "Clear structure; the conclusion needs evidence."}
   */
  @ApiAnyJson()
  result: unknown;
  /** Present only when ok is false. */
  error?: JobErrorDto;
}
