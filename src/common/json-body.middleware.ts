import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { json } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CONFIG, type RelayConfig } from '../config/config';
import { DomainError } from './domain-errors';

export const MAX_JSON_DEPTH = 32;
const CALLBACK_PATH = /^\/v1\/llm\/callback\//;
/** Errors raised by body-parser carry a `type`; all are the client's fault, never a 500. */
const BODY_PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'malformed_json', 'The request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'The request body is larger than this route accepts'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'Unsupported Content-Encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'JSON bodies must be UTF-8'],
  'request.aborted': [400, 'request_aborted', 'The request body was cut off'],
  'request.size.invalid': [400, 'request_size_invalid', 'Content-Length does not match the body'],
};
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

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
    const options = { strict: false, type: () => true };
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
      return next(new DomainError(415, 'unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json)'));
    }
    // Nest mounts middleware under its own path; originalUrl is the URL the client sent.
    const parser = CALLBACK_PATH.test(req.originalUrl) ? this.callbackParser : this.intakeParser;
    parser(req, res, (error?: unknown) => {
      if (error) return next(asDomainError(error));
      if (req.body === undefined) req.body = {};
      if (jsonDepth(req.body) > MAX_JSON_DEPTH) {
        return next(new DomainError(400, 'too_deeply_nested', `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`));
      }
      next();
    });
  }
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
