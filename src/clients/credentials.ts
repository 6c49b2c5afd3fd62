import { createHash, randomBytes } from 'node:crypto';

/** What a client's API key starts with: lets the relay skip the database for keys it could never have issued. */
export const API_KEY_PREFIX = 'rk_';
const SIGNING_SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
export const SIGNING_SECRET_MIN_BYTES = 24;
export const SIGNING_SECRET_MAX_BYTES = 64;

export const newClientId = (): string => `cli_${randomBytes(12).toString('hex')}`;
export const newKeyId = (): string => `key_${randomBytes(10).toString('hex')}`;
export const newSecretId = (): string => `sec_${randomBytes(10).toString('hex')}`;

/** A client's API key: 256 random bits. */
export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** A signing secret as the Standard Webhooks libraries take it: `whsec_` + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return 'whsec_' + randomBytes(32).toString('base64');
}

/** The hex SHA-256 of an API key: what is stored and looked up (a key has 256 bits: no slow hash is needed). */
export function keyDigestHex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Why a supplied signing secret is refused, or null: `whsec_` + canonical base64 of 24 to 64 bytes. */
export function signingSecretProblem(secret: string): string | null {
  const match = SIGNING_SECRET.exec(secret);
  const bytes = match ? Buffer.from(match[1], 'base64') : null;
  if (!match || !bytes || bytes.toString('base64') !== match[1]) {
    return 'signing_secret must be whsec_ followed by standard base64';
  }
  if (bytes.length < SIGNING_SECRET_MIN_BYTES || bytes.length > SIGNING_SECRET_MAX_BYTES) {
    return `signing_secret must encode ${SIGNING_SECRET_MIN_BYTES} to ${SIGNING_SECRET_MAX_BYTES} bytes (it encodes ${bytes.length})`;
  }
  return null;
}
