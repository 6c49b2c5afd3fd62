import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { json } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CONFIG, type RelayConfig } from '../config/config';
import { DomainError, type ErrorCode } from '../common/domain-errors';
import { firstInexactInteger, firstNonFiniteNumber } from '../common/json-numbers';

export const MAX_JSON_DEPTH = 32;
const CALLBACK_PATH = /^\/(v1\/llm\/callback|simulate-llm)\//;
/** Errors raised by body-parser carry a `type`; all are the client's fault, never a 500. */
const BODY_PARSER_ERRORS: Record<string, [ErrorCode, string]> = {
  'entity.parse.failed': ['malformed_json', 'The request body is not valid JSON'],
  'entity.too.large': ['payload_too_large', 'The request body is larger than this route accepts'],
  'encoding.unsupported': ['unsupported_encoding', 'Unsupported Content-Encoding'],
  'charset.unsupported': ['unsupported_charset', 'JSON bodies must be UTF-8'],
  'request.aborted': ['request_aborted', 'The request body was cut off'],
  'request.size.invalid': ['request_size_invalid', 'Content-Length does not match the body'],
};
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const INEXACT_INTEGER = Symbol('inexactInteger');

type ParsedRequest = Request & { [INEXACT_INTEGER]?: string | null };

export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const type = header.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Body parsing for the whole API: JSON only (415 otherwise), a size limit per route (413), and a nesting limit
 * (400), since Express happily parses a 50,000-deep array. An empty body is treated as `{}`.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly intakeParser: RequestHandler;
  private readonly callbackParser: RequestHandler;

  constructor(@Inject(CONFIG) config: RelayConfig) {
    // The raw bytes are looked at once, before parsing, for integers a double would round.
    const verify = (req: ParsedRequest, _res: unknown, raw: Buffer) => {
      req[INEXACT_INTEGER] = firstInexactInteger(raw);
    };
    const options = { strict: false, type: () => true, verify };
    this.intakeParser = json({ ...options, limit: config.intakeMaxBodyBytes });
    this.callbackParser = json({ ...options, limit: config.callbackMaxBodyBytes });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!WRITE_METHODS.has(req.method)) return next();
    if (!hasBody(req)) {
      req.body = {};
      return next();
    }
    if (!isJsonContentType(req.headers['content-type'])) {
      return next(
        new DomainError('unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json)'),
      );
    }
    if (!isUtf8Charset(req.headers['content-type'])) {
      return next(new DomainError('unsupported_charset', 'JSON bodies must be UTF-8 (charset=utf-8 or no charset)'));
    }
    // Nest mounts middleware under its own path; originalUrl is the URL the client sent.
    const parser = CALLBACK_PATH.test(req.originalUrl) ? this.callbackParser : this.intakeParser;
    parser(req, res, (error?: unknown) => {
      if (error) return next(asDomainError(error));
      if (req.body === undefined) req.body = {};
      next(bodyProblem(req as ParsedRequest));
    });
  }
}

/** What makes a parsed body unacceptable before any route looks at it, or undefined. */
function bodyProblem(req: ParsedRequest): DomainError | undefined {
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return new DomainError('body_not_object', 'The request body must be a JSON object');
  }
  if (jsonDepth(body) > MAX_JSON_DEPTH) {
    return new DomainError('too_deeply_nested', `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`);
  }
  const inexact = req[INEXACT_INTEGER];
  if (inexact) {
    return new DomainError(
      'unrepresentable_number',
      `The integer ${inexact.slice(0, 40)} cannot be carried exactly (JSON numbers are read as IEEE-754 doubles, exact up to 2^53); send it as a string`,
    );
  }
  const infinite = firstNonFiniteNumber(body);
  if (infinite) {
    return new DomainError(
      'unrepresentable_number',
      `${infinite} is a number too large for JSON to carry (it would overflow to Infinity)`,
    );
  }
  return undefined;
}

/** A charset parameter, when present, must say UTF-8: other encodings are refused with 415, not misread. */
function isUtf8Charset(header: string | undefined): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(header ?? '')?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

function asDomainError(error: unknown): unknown {
  const known = BODY_PARSER_ERRORS[(error as { type?: string }).type ?? ''];
  return known ? new DomainError(...known) : error;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/** Nesting depth, measured without recursion so a hostile body cannot blow the stack. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, level]);
  }
  return deepest;
}
