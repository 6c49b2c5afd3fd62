import {
  ArgumentsHost,
  BadRequestException,
  InternalServerErrorException,
  Logger,
  LoggerService,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { DomainErrorFilter } from './domain-error.filter';
import { JobNotFoundError } from '../common/domain-errors';

interface Logged {
  level: 'error' | 'warn' | 'log';
  message: string;
  stack?: string;
}

class RecordingLogger implements LoggerService {
  readonly lines: Logged[] = [];
  log(message: string): void {
    this.lines.push({ level: 'log', message });
  }
  error(message: string, stack?: string): void {
    this.lines.push({ level: 'error', message, stack });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
}

function answer(exception: unknown): {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
} {
  const sent = { status: 0, body: {} } as {
    status: number;
    body: Record<string, unknown>;
    headers?: Record<string, string>;
  };
  const response = {
    headersSent: false,
    setHeader(name: string, value: string) {
      sent.headers = { ...sent.headers, [name]: value };
    },
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: Record<string, unknown>) {
      sent.body = body;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  new DomainErrorFilter().catch(exception, host);
  return sent;
}

/** What terminus throws when a check fails or the app is shutting down. */
function healthFailure(status: 'error' | 'shutting_down'): ServiceUnavailableException {
  const down = { intake: { status: 'down', message: 'draining' } };
  return new ServiceUnavailableException({ status, info: {}, error: down, details: down });
}

describe('DomainErrorFilter logging', () => {
  let logger: RecordingLogger;
  beforeEach(() => {
    logger = new RecordingLogger();
    Logger.overrideLogger(logger);
  });

  it('does not log expected client errors', () => {
    expect(answer(new JobNotFoundError('job_x')).status).toBe(404);
    expect(answer(new NotFoundException()).status).toBe(404);
    expect(answer(new BadRequestException(['submission_id must be a string'])).status).toBe(400);
    expect(logger.lines).toEqual([]);
  });

  it.each(['error', 'shutting_down'] as const)(
    'answers a failed health check (%s) 503 without an error line or stack',
    (status) => {
      const sent = answer(healthFailure(status));
      expect(sent.status).toBe(503);
      expect(sent.body).toMatchObject({ code: 'not_ready', error: { intake: { status: 'down' } } });
      expect(logger.lines.filter((line) => line.level === 'error')).toEqual([]);
      expect(logger.lines.every((line) => line.stack === undefined)).toBe(true);
    },
  );

  it('logs an unknown error at error level with its stack, and hides it from the client', () => {
    const failure = new TypeError('cannot read properties of undefined');
    const sent = answer(failure);
    expect(sent).toEqual({ status: 500, body: { statusCode: 500, code: 'internal_error', message: 'Internal error' } });
    expect(logger.lines).toEqual([
      { level: 'error', message: expect.stringContaining('cannot read properties'), stack: failure.stack },
    ]);
  });

  it('answers a database outage 503 database_unavailable with Retry-After, as a warning without a stack', () => {
    const outage = new QueryFailedError(
      'INSERT INTO jobs',
      [],
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    );
    const sent = answer(outage);
    expect(sent).toEqual({
      status: 503,
      body: { statusCode: 503, code: 'database_unavailable', message: expect.stringContaining('nothing was stored') },
      headers: { 'Retry-After': '2' },
    });
    expect(logger.lines).toEqual([
      { level: 'warn', message: expect.stringContaining('database unavailable: terminating connection') },
    ]);
  });

  it('still logs a server-side HTTP exception as an error', () => {
    expect(answer(new InternalServerErrorException('broken')).status).toBe(500);
    expect(logger.lines.map((line) => line.level)).toEqual(['error']);
  });
});
