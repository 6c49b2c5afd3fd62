import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { catchError, Observable, tap, throwError } from 'rxjs';
import { DomainError, type ErrorCode } from '../common/domain-errors';
import { CallbackResult, RelayMetrics } from '../metrics/relay-metrics';
import type { CallbackAckDto } from './dto/llm-callback.dto';

/** A refused callback's result label, by the error's code; codes not listed (e.g. an outage) are not counted. */
const RESULT_BY_CODE: Partial<Record<ErrorCode, CallbackResult>> = {
  invalid_callback_token: 'unauthorized',
  job_not_found: 'not_found',
  result_already_recorded: 'conflict',
  invalid_result: 'rejected',
  malformed_json: 'invalid',
  request_aborted: 'invalid',
  request_size_invalid: 'invalid',
  body_not_object: 'invalid',
  too_deeply_nested: 'invalid',
  unrepresentable_number: 'invalid',
  validation_failed: 'invalid',
};

/** Counts every callback by result, including those refused by validation before the handler runs. */
@Injectable()
export class CallbackMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: RelayMetrics) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<CallbackAckDto> {
    return next.handle().pipe(
      tap((ack: CallbackAckDto) => this.metrics.callback(ack.status)),
      catchError((error: unknown) => {
        const result = error instanceof DomainError ? RESULT_BY_CODE[error.code] : undefined;
        if (result) this.metrics.callback(result);
        return throwError(() => error);
      }),
    );
  }
}
