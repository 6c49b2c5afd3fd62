import type { ErrorCode } from '../common/domain-errors';

/** The one table from error codes to HTTP statuses; the error filter answers with it. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  malformed_json: 400,
  payload_too_large: 413,
  unsupported_encoding: 415,
  unsupported_charset: 415,
  unsupported_media_type: 415,
  request_aborted: 400,
  request_size_invalid: 400,
  body_not_object: 400,
  too_deeply_nested: 400,
  unrepresentable_number: 400,
  validation_failed: 400,
  invalid_idempotency_key: 400,
  invalid_cursor: 400,
  cursor_with_offset: 400,
  invalid_date: 400,
  invalid_api_key: 401,
  invalid_callback_token: 401,
  admin_key_required: 403,
  admin_key_cannot_submit: 403,
  client_disabled: 403,
  client_not_found: 404,
  api_key_not_found: 404,
  managed_by_environment: 409,
  encryption_key_missing: 409,
  job_not_found: 404,
  simulation_disabled: 404,
  idempotency_key_reused: 409,
  job_finished: 409,
  job_not_finished: 409,
  result_already_recorded: 409,
  webhook_url_not_allowed: 422,
  invalid_result: 422,
  rate_limited: 429,
  backlog_full: 503,
  overloaded: 503,
  database_unavailable: 503,
};

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code] ?? 500;
}
