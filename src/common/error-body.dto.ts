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
  /** Per-field problems, for validation errors. */
  details?: string[];
}

/** Any operation that reads or writes the database may answer this while the database does not answer. */
export const DATABASE_UNAVAILABLE_RESPONSE = {
  description: 'The database does not answer (database_unavailable); nothing was changed: retry after Retry-After',
  type: ErrorBodyDto,
};
