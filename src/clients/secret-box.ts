import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when a ciphertext names a key the relay was not given, or fails its authentication. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/**
 * AES-256-GCM under RELAY_ENCRYPTION_KEY, for the signing secrets at rest. A ciphertext is
 * `v1:<key id>:<base64 of iv, tag and ciphertext>`; the key id (the first 8 hex digits of the key's SHA-256) says which
 * key sealed it, so RELAY_ENCRYPTION_PREVIOUS_KEYS can still open what an older key sealed. The associated data binds
 * a ciphertext to its row (the client and secret ids): one copied onto another row does not open.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string | null;

  constructor(current: Buffer | null, previous: readonly Buffer[] = []) {
    this.currentId = current ? keyIdOf(current) : null;
    for (const key of [...previous, ...(current ? [current] : [])]) this.keys.set(keyIdOf(key), key);
  }

  /** Whether secrets can be sealed (RELAY_ENCRYPTION_KEY is set). */
  get canSeal(): boolean {
    return this.currentId !== null;
  }

  seal(plaintext: string, associatedData: string): string {
    if (this.currentId === null) throw new SecretBoxError('RELAY_ENCRYPTION_KEY is not set');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${this.currentId}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string, associatedData: string): string {
    const [version, keyId, payload] = sealed.split(':');
    const key = this.keys.get(keyId);
    if (version !== VERSION || payload === undefined) throw new SecretBoxError('not a sealed secret');
    if (!key) {
      throw new SecretBoxError(
        `sealed under key ${keyId}, which neither RELAY_ENCRYPTION_KEY nor RELAY_ENCRYPTION_PREVIOUS_KEYS holds`,
      );
    }
    const bytes = Buffer.from(payload, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`does not authenticate under key ${keyId}`);
    }
  }

  /** Whether a ciphertext was sealed under another key than the current one (it is resealed at start). */
  isStale(sealed: string): boolean {
    return this.currentId !== null && sealed.split(':')[1] !== this.currentId;
  }
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}
