import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh 256-bit credential for the LLM's callback; only its hash is ever stored. */
export function newCallbackToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashCallbackToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Whether `token` matches one of the stored hashes. Hashing first makes every comparison the same length, so
 * garbage of any size is simply a mismatch, and each comparison is constant-time.
 */
export function tokenMatches(token: string | undefined, storedHashes: string): boolean {
  if (!token || storedHashes.length === 0) return false;
  const presented = Buffer.from(hashCallbackToken(token), 'hex');
  let matched = false;
  for (const stored of storedHashes.split(',')) {
    const expected = Buffer.from(stored, 'hex');
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) matched = true;
  }
  return matched;
}
