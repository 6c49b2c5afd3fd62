/** Every error answer has this shape. */
export class ErrorBodyDto {
  /** @example 400 */
  statusCode: number;
  /**
   * Machine-readable reason.
   * @example "validation_failed"
   */
  code: string;
  /** @example "webhook_url must be an absolute http(s) URL of at most 2048 characters, without credentials or whitespace" */
  message: string;
  /** Per-field problems, for validation errors; for invalid_result, what is wrong with the result (at most 10). */
  details?: string[];
}

/** A callback's ok result that breaks RESULT_SCHEMA while the job still waits for one. */
export const INVALID_RESULT_RESPONSE = {
  description:
    'The result does not match the result schema (invalid_result); details lists what is wrong (path inside the ' +
    'result and problem). Nothing was recorded but the refusal: send a corrected result before the callback deadline',
  type: ErrorBodyDto,
};

/** Any operation that reads or writes the database may answer this while the database does not answer. */
export const DATABASE_UNAVAILABLE_RESPONSE = {
  description: 'The database does not answer (database_unavailable); nothing was changed: retry after Retry-After',
  type: ErrorBodyDto,
};
