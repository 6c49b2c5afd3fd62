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
  | 'admin_key_required'
  | 'admin_key_cannot_submit'
  | 'client_disabled'
  // the clients
  | 'client_not_found'
  | 'api_key_not_found'
  | 'managed_by_environment'
  | 'encryption_key_missing'
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
  | 'rate_limited'
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
  /** `clientId`: the client's own max_backlog was reached, not the relay's INTAKE_MAX_BACKLOG. */
  constructor(limit: number, clientId?: string) {
    super(
      'backlog_full',
      clientId === undefined
        ? `The relay has ${limit} or more jobs waiting to be forwarded (INTAKE_MAX_BACKLOG); retry later`
        : `Client ${clientId} has ${limit} or more jobs waiting to be forwarded (its max_backlog); retry later`,
    );
  }
}

/** A client's own intake_rate_limit (the relay's INTAKE_RATE_LIMIT answers the same code). */
export class ClientRateLimitedError extends DomainError {
  constructor(clientId: string, limit: number, windowSeconds: number) {
    super(
      'rate_limited',
      `Client ${clientId} sent ${limit} intake requests within ${windowSeconds} s (its intake_rate_limit); retry after the Retry-After delay`,
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

export class AdminKeyRequiredError extends DomainError {
  constructor(what: string) {
    super('admin_key_required', `${what} needs an admin key (RELAY_ADMIN_KEYS)`);
  }
}

export class AdminCannotSubmitError extends DomainError {
  constructor() {
    super(
      'admin_key_cannot_submit',
      "An admin key cannot submit jobs: every job belongs to a client, so submit with the client's own key",
    );
  }
}

export class ClientDisabledError extends DomainError {
  constructor() {
    super('client_disabled', "This API key's client is disabled; its accepted jobs still finish");
  }
}

export class ClientNotFoundError extends DomainError {
  constructor(clientId: string) {
    super('client_not_found', `No client with id ${clientId}`);
  }
}

export class ApiKeyNotFoundError extends DomainError {
  constructor(keyId: string) {
    super('api_key_not_found', `This client has no API key with id ${keyId}`);
  }
}

export class ManagedByEnvironmentError extends DomainError {
  constructor(what: string) {
    super(
      'managed_by_environment',
      `The default client's ${what} come from the environment (RELAY_API_KEYS, CALLBACK_HMAC_SECRET, CALLBACK_HMAC_PREVIOUS_SECRETS): change them there`,
    );
  }
}

export class EncryptionKeyMissingError extends DomainError {
  constructor() {
    super(
      'encryption_key_missing',
      'Signing secrets are stored encrypted: set RELAY_ENCRYPTION_KEY (32 bytes, base64: openssl rand -base64 32) first',
    );
  }
}
