import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../database/database-outage';
import { DatabaseUnavailableError, DomainError } from '../common/domain-errors';
import { statusOf } from './error-status';

const NOT_READY = 'not_ready';

interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: unknown;
  /** A failed health check's failing indicators (terminus' report). */
  error?: unknown;
}

/** The one place where errors become HTTP answers: `{statusCode, code, message, details?}`. */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (isDatabaseUnavailable(exception)) return this.answerUnavailable(exception as Error, response);
    const body = this.toBody(exception);
    this.logFailure(exception, body);
    if (!response.headersSent) response.status(body.statusCode).json(body);
  }

  /**
   * The database did not answer (restarting, unreachable, overloaded): 503 with Retry-After, so the web service
   * retries its intake and the LLM its callback; nothing was stored, so nothing is acknowledged. An outage, not a bug:
   * a warning without a stack.
   */
  private answerUnavailable(exception: Error, response: Response): void {
    const { code, message } = new DatabaseUnavailableError();
    const status = statusOf(code);
    this.logger.warn(`database unavailable: ${exception.message}`);
    if (response.headersSent) return;
    response.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
    response.status(status).json({ statusCode: status, code, message });
  }

  /**
   * A client's own mistake (4xx) is not the relay's error, nor is an answer the relay chose (a DomainError, e.g. 503
   * backlog_full under overload: counted in /metrics, and the request log line has its status). A failed readiness
   * check is an expected state (draining, database away): a warning without a stack. Anything else is a bug or an
   * outage: error, with the stack.
   */
  private logFailure(exception: unknown, body: ErrorBody): void {
    if (body.code === NOT_READY) {
      this.logger.warn(`readiness check failed: ${JSON.stringify(body.error)}`);
    } else if (body.statusCode >= 500 && !(exception instanceof DomainError)) {
      this.logger.error(`unhandled error: ${(exception as Error)?.message}`, (exception as Error)?.stack);
    }
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof DomainError) {
      const { code, message, details } = exception;
      const statusCode = statusOf(code);
      return details === undefined ? { statusCode, code, message } : { statusCode, code, message, details };
    }
    if (exception instanceof HttpException) return fromHttpException(exception);
    return { statusCode: 500, code: 'internal_error', message: 'Internal error' };
  }
}

function fromHttpException(exception: HttpException): ErrorBody {
  const statusCode = exception.getStatus();
  const payload = exception.getResponse() as string | { message?: unknown; error?: unknown; details?: unknown };
  if (statusCode === 429)
    return { statusCode, code: 'rate_limited', message: 'Too many requests; retry after the Retry-After delay' };
  if (typeof payload === 'object' && payload.details !== undefined && !Array.isArray(payload.message)) {
    // A failed health check: keep terminus' per-indicator report for the orchestrator and the operator.
    return { ...payload, statusCode, code: NOT_READY, message: 'A readiness check failed' };
  }
  const raw = typeof payload === 'string' ? payload : payload.message;
  if (Array.isArray(raw)) {
    return { statusCode, code: 'validation_failed', message: raw.join('; '), details: raw };
  }
  const name = typeof payload === 'object' && typeof payload.error === 'string' ? payload.error : exception.name;
  const code = statusCode === 404 ? 'not_found' : snake(name);
  return { statusCode, code, message: typeof raw === 'string' ? raw : exception.message };
}

function snake(text: string): string {
  return text
    .replace(/Exception$/, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/\W+/g, '_')
    .toLowerCase();
}
