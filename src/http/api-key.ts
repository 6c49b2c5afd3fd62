import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

export const API_KEY_SCHEME = 'api-key';
export const BEARER_SCHEME = 'bearer';

/** The key a request presents: `X-API-Key`, or `Authorization: Bearer <key>`; null when none. */
export function presentedApiKey(request: Pick<Request, 'headers'>): string | null {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = request.headers.authorization;
  const match = typeof authorization === 'string' ? /^Bearer\s+(.+)$/i.exec(authorization) : null;
  return match ? match[1].trim() : null;
}

/** SHA-256 of a key: compared in constant time here, and the throttler's tracker so keys never sit in memory maps. */
export function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * Whether `candidate` (a digest) is among `known`, compared in constant time against every one, so neither a key's
 * content nor its length nor its place in the list leaks through timing.
 */
export function digestAmong(known: readonly Buffer[], candidate: Buffer): boolean {
  let matched = false;
  for (const entry of known) if (timingSafeEqual(entry, candidate)) matched = true;
  return matched;
}
