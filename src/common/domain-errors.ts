/**
 * Every error the relay answers on purpose, by code. The code is the contract (it is the `code` of the JSON error
 * body); the HTTP status it maps to lives in one table at the edge (http/error-status.ts).
 */
export type ErrorCode =
  // the request itself
  | 'malformed_json'
  | 'payload_too_large'
  | 'unsupported_encoding'
  | 'unsupported_charset'
  | 'unsupported_media_type'
  | 'request_aborted'
  | 'request_size_invalid'
  | 'body_not_object'
  | 'too_deeply_nested'
  | 'unrepresentable_number'
  | 'validation_failed'
  | 'invalid_idempotency_key'
  | 'invalid_cursor'
  | 'cursor_with_offset'
  | 'invalid_date'
  // who is asking
  | 'invalid_api_key'
  | 'invalid_callback_token'
  // the job
  | 'job_not_found'
  | 'idempotency_key_reused'
  | 'job_finished'
  | 'job_not_finished'
  | 'webhook_url_not_allowed'
  | 'result_already_recorded'
  | 'invalid_result'
  | 'simulation_disabled'
  // the relay's state
  | 'backlog_full'
  | 'overloaded'
  | 'database_unavailable';

/** An error with a code and a message a client can act on; `details` (e.g. the failed checks) goes to the body. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class JobNotFoundError extends DomainError {
  constructor(jobId: string) {
    super('job_not_found', `No job with id ${jobId}`);
  }
}

export class IdempotencyConflictError extends DomainError {
  constructor() {
    super('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body');
  }
}

export class CallbackUnauthorizedError extends DomainError {
  constructor() {
    super('invalid_callback_token', 'The callback credential is missing or wrong for this job');
  }
}

export class ResultConflictError extends DomainError {
  constructor() {
    super('result_already_recorded', 'A different result was already recorded for this job');
  }
}

export class InvalidResultError extends DomainError {
  constructor(problems: string[]) {
    super(
      'invalid_result',
      'The result does not match the result schema: send a corrected result before the callback deadline',
      problems,
    );
  }
}

export class JobNotFinishedError extends DomainError {
  constructor(status: string) {
    super('job_not_finished', `Only delivered or delivery_failed jobs can be redelivered (this job is ${status})`);
  }
}

export class ApiKeyUnauthorizedError extends DomainError {
  constructor() {
    super('invalid_api_key', 'A valid API key is required (Authorization: Bearer <key> or X-API-Key)');
  }
}

export class SimulationDisabledError extends DomainError {
  constructor() {
    super('simulation_disabled', 'The LLM simulation is disabled (SIMULATION_ENABLED=false)');
  }
}

export class DatabaseUnavailableError extends DomainError {
  constructor() {
    super(
      'database_unavailable',
      'The database does not answer right now; nothing was stored. Retry after the Retry-After delay',
    );
  }
}

export class JobFinishedError extends DomainError {
  constructor(status: string) {
    super('job_finished', `Only jobs not yet delivered can be cancelled (this job is ${status})`);
  }
}

export class WebhookUrlNotAllowedError extends DomainError {
  constructor(reason: string) {
    super('webhook_url_not_allowed', `webhook_url is not allowed: ${reason} (ALLOW_PRIVATE_WEBHOOK_URLS is off)`);
  }
}

export class InvalidCursorError extends DomainError {
  constructor() {
    super('invalid_cursor', 'cursor is not one the relay gave out: pass next_cursor from the previous page unchanged');
  }
}

export class IntakeBacklogFullError extends DomainError {
  constructor(limit: number) {
    super(
      'backlog_full',
      `The relay has ${limit} or more jobs waiting to be forwarded (INTAKE_MAX_BACKLOG); retry later`,
    );
  }
}

export class IntakeOverloadedError extends DomainError {
  constructor(limitMs: number) {
    super(
      'overloaded',
      `The relay's event loop runs more than ${limitMs} ms late (INTAKE_MAX_EVENT_LOOP_DELAY_MS); retry later`,
    );
  }
}
