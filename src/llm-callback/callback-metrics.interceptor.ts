import { CallHandler, ExecutionContext, HttpException, Injectable, NestInterceptor } from '@nestjs/common';
import { catchError, Observable, tap, throwError } from 'rxjs';
import { DomainError } from '../common/domain-errors';
import { CallbackResult, RelayMetrics } from '../metrics/relay-metrics';
import type { CallbackAckDto } from './dto/llm-callback.dto';

const BY_STATUS: Record<number, CallbackResult> = { 400: 'invalid', 401: 'unauthorized', 404: 'not_found', 409: 'conflict', 422: 'rejected' };

/** Counts every callback by result, including those refused by validation before the handler runs. */
@Injectable()
export class CallbackMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: RelayMetrics) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<CallbackAckDto> {
    return next.handle().pipe(
      tap((ack: CallbackAckDto) => this.metrics.callback(ack.status)),
      catchError((error: unknown) => {
        const status = error instanceof DomainError ? error.status : error instanceof HttpException ? error.getStatus() : 500;
        const result = BY_STATUS[status];
        if (result) this.metrics.callback(result);
        return throwError(() => error);
      }),
    );
  }
}
