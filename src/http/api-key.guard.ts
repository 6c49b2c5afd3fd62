import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { CONFIG, type RelayConfig } from '../config/config';
import { ApiKeyUnauthorizedError } from '../common/domain-errors';

export const API_KEY_SCHEME = 'api-key';
export const BEARER_SCHEME = 'bearer';

/**
 * Guards the web service's routes with RELAY_API_KEYS (`Authorization: Bearer <key>` or `X-API-Key`). With no keys
 * configured (allowed only outside production) the routes are open. Keys are compared as SHA-256 digests in constant
 * time, so neither their content nor their length leaks through timing.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(@Inject(CONFIG) config: RelayConfig) {
    this.digests = config.relayApiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.digests.length === 0) return true;
    const presented = presentedApiKey(context.switchToHttp().getRequest<Request>());
    if (presented === null) throw new ApiKeyUnauthorizedError();
    const candidate = digest(presented);
    let matched = false;
    for (const known of this.digests) if (timingSafeEqual(known, candidate)) matched = true;
    if (!matched) throw new ApiKeyUnauthorizedError();
    return true;
  }
}

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
