import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { StartupError } from '../common/startup-error';
import { CONFIG, type RelayConfig } from '../config/config';
import { DEFAULT_CLIENT_ID, type SigningSecret } from './client.entity';
import { ClientsRepository } from './clients.repository';
import { SecretBox, SecretBoxError } from './secret-box';

/** How long a client's secrets are trusted: a rotation signs on every replica within this. */
export const SECRETS_CACHE_MS = 1_000;

/** The associated data of a sealed secret: its row, so a ciphertext copied to another row does not open. */
export const secretAad = (secret: Pick<SigningSecret, 'clientId' | 'id'>): string => `${secret.clientId}/${secret.id}`;

/**
 * The secrets that sign a client's deliveries at the moment they are sent, newest first: CALLBACK_HMAC_SECRET and
 * CALLBACK_HMAC_PREVIOUS_SECRETS for `default`, the opened (decrypted) unexpired rows for the others, cached for
 * SECRETS_CACHE_MS. At start it opens every stored secret once: one under a key the relay was not given stops the
 * start, and those under an older key are sealed again under RELAY_ENCRYPTION_KEY.
 */
@Injectable()
export class SigningSecrets implements OnModuleInit {
  private readonly environment: string[];
  private readonly cache = new Map<string, { secrets: { secret: string; expiresAt: number | null }[]; at: number }>();

  constructor(
    private readonly repository: ClientsRepository,
    private readonly box: SecretBox,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {
    this.environment = [config.callbackHmacSecret, ...config.callbackHmacPreviousSecrets];
  }

  async onModuleInit(): Promise<void> {
    const stored = await this.repository.allSecrets();
    if (stored.length > 0 && !this.box.canSeal && this.config.production) {
      throw new StartupError(
        'RELAY_ENCRYPTION_KEY must be set in production once clients exist: their signing secrets are sealed under it',
      );
    }
    for (const secret of stored) {
      let plaintext: string;
      try {
        plaintext = this.box.open(secret.ciphertext, secretAad(secret));
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        throw new StartupError(`a signing secret of client ${secret.clientId} is ${error.message}`);
      }
      if (this.box.isStale(secret.ciphertext)) {
        await this.repository.replaceCiphertext(secret.id, this.box.seal(plaintext, secretAad(secret)));
      }
    }
  }

  /** The secrets signing `clientId`'s deliveries now, newest first (at most five). */
  async current(clientId: string): Promise<string[]> {
    if (clientId === DEFAULT_CLIENT_ID) return this.environment;
    const now = Date.now();
    let cached = this.cache.get(clientId);
    if (!cached || now - cached.at >= SECRETS_CACHE_MS) {
      const rows = await this.repository.signingSecrets(clientId, now);
      const secrets = rows.map((row) => ({
        secret: this.box.open(row.ciphertext, secretAad(row)),
        expiresAt: row.expiresAt,
      }));
      cached = { secrets, at: now };
      this.cache.set(clientId, cached);
    }
    return cached.secrets
      .filter((entry) => entry.expiresAt === null || entry.expiresAt > now)
      .map((entry) => entry.secret);
  }

  /** After this replica rotated a secret (the others reload within SECRETS_CACHE_MS). */
  forget(clientId: string): void {
    this.cache.delete(clientId);
  }
}
