import { ApiAnyJson } from '../../common/openapi-schema';
import { JobErrorDto } from '../../reviews/dto/review.dto';

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
