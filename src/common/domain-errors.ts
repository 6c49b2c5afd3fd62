/** Errors that carry their HTTP meaning as a code; the one filter in domain-error.filter.ts maps them to responses. */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class JobNotFoundError extends DomainError {
  constructor(jobId: string) {
    super(404, 'job_not_found', `No job with id ${jobId}`);
  }
}

export class IdempotencyConflictError extends DomainError {
  constructor() {
    super(409, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request body');
  }
}

export class CallbackUnauthorizedError extends DomainError {
  constructor() {
    super(401, 'invalid_callback_token', 'The callback credential is missing or wrong for this job');
  }
}

export class ResultConflictError extends DomainError {
  constructor() {
    super(409, 'result_already_recorded', 'A different result was already recorded for this job');
  }
}

export class InvalidResultError extends DomainError {
  constructor(problems: string[]) {
    super(
      422,
      'invalid_result',
      'The result does not match the result schema: send a corrected result before the callback deadline',
      problems,
    );
  }
}

export class JobNotFinishedError extends DomainError {
  constructor(status: string) {
    super(409, 'job_not_finished', `Only delivered or delivery_failed jobs can be redelivered (this job is ${status})`);
  }
}

export class ApiKeyUnauthorizedError extends DomainError {
  constructor() {
    super(401, 'invalid_api_key', 'A valid API key is required (Authorization: Bearer <key> or X-API-Key)');
  }
}

export class SimulationDisabledError extends DomainError {
  constructor() {
    super(404, 'simulation_disabled', 'The LLM simulation is disabled (SIMULATION_ENABLED=false)');
  }
}

export class DatabaseUnavailableError extends DomainError {
  constructor() {
    super(503, 'database_unavailable', 'The database does not answer right now; nothing was stored. Retry after the Retry-After delay');
  }
}

export class JobFinishedError extends DomainError {
  constructor(status: string) {
    super(409, 'job_finished', `Only jobs not yet delivered can be cancelled (this job is ${status})`);
  }
}
