import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { RelayConfig } from '../config/config';
import { digest, presentedApiKey } from './api-key';

/**
 * Rate limit of intake, per API key (a digest of it, never the key itself) or, with no key, per client address
 * as seen through one trusted proxy hop.
 */
export function intakeThrottleOptions(config: RelayConfig): ThrottlerModuleOptions {
  return {
    throttlers: [{ name: 'default', limit: config.intakeRateLimit, ttl: config.intakeRateWindowSeconds * 1000 }],
    setHeaders: true,
    getTracker: (req) => {
      const key = presentedApiKey(req as Parameters<typeof presentedApiKey>[0]);
      return key ? `key:${digest(key).toString('hex')}` : `ip:${(req as { ip?: string }).ip ?? 'unknown'}`;
    },
  };
}
