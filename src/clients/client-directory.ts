import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiKeyUnauthorizedError, ClientDisabledError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';
import { digest, digestAmong } from '../http/api-key';
import { type Caller } from './caller';
import { type Client, DEFAULT_CLIENT_ID } from './client.entity';
import { ClientsRepository } from './clients.repository';
import { API_KEY_PREFIX } from './credentials';

/** How long a client's row (name, prefixes, disabled) is trusted: a change reaches every replica within this. */
export const CLIENT_CACHE_MS = 1_000;
/** A key's last use is written at most this often. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Finds who a key belongs to. Environment keys (RELAY_ADMIN_KEYS, RELAY_API_KEYS for `default`) are compared in
 * memory in constant time; a client's key is looked up by its SHA-256 digest on every request, so a revoked key is
 * refused from the next request on, on every replica. Client rows are cached for CLIENT_CACHE_MS.
 */
@Injectable()
export class ClientDirectory {
  private readonly logger = new Logger(ClientDirectory.name);
  private readonly adminDigests: Buffer[];
  private readonly defaultDigests: Buffer[];
  private readonly clients = new Map<string, { client: Client | null; at: number }>();
  /** Whether a client was ever created: then the API is never open (sticky once true). */
  private created: { value: boolean; at: number } = { value: false, at: 0 };

  constructor(
    private readonly repository: ClientsRepository,
    @Inject(CONFIG) config: RelayConfig,
  ) {
    this.adminDigests = config.relayAdminKeys.map(digest);
    this.defaultDigests = config.relayApiKeys.map(digest);
  }

  /** The caller a presented key (or none) stands for; 401 for a key the relay does not know, 403 if disabled. */
  async identify(presented: string | null): Promise<Caller> {
    if (presented === null) {
      if (await this.isOpen()) return this.openCaller();
      throw new ApiKeyUnauthorizedError();
    }
    const candidate = digest(presented);
    if (digestAmong(this.adminDigests, candidate)) return { role: 'admin', open: false };
    if (digestAmong(this.defaultDigests, candidate)) return this.clientCaller(DEFAULT_CLIENT_ID);
    const owner = presented.startsWith(API_KEY_PREFIX)
      ? await this.repository.keyByDigest(candidate.toString('hex'))
      : null;
    if (owner) {
      const now = Date.now();
      if (owner.lastUsedAt === null || now - owner.lastUsedAt >= TOUCH_EVERY_MS) this.touch(owner.keyId, now);
      return this.clientCaller(owner.clientId);
    }
    if (await this.isOpen()) return this.openCaller();
    throw new ApiKeyUnauthorizedError();
  }

  /** A client's row, at most CLIENT_CACHE_MS old; null when there is no such client. */
  async client(id: string): Promise<Client | null> {
    const cached = this.clients.get(id);
    if (cached && Date.now() - cached.at < CLIENT_CACHE_MS) return cached.client;
    const client = await this.repository.findClient(id);
    this.clients.set(id, { client, at: Date.now() });
    return client;
  }

  /** Drops a cached row after this replica changed it (other replicas see the change within CLIENT_CACHE_MS). */
  forget(id: string): void {
    this.clients.delete(id);
    if (id !== DEFAULT_CLIENT_ID) this.created = { value: true, at: Date.now() };
  }

  /** Open only while no key of any kind exists: none in the environment and no client created. */
  async isOpen(): Promise<boolean> {
    if (this.adminDigests.length > 0 || this.defaultDigests.length > 0 || this.created.value) return false;
    if (Date.now() - this.created.at >= CLIENT_CACHE_MS) {
      this.created = { value: await this.repository.anyCreatedClient(), at: Date.now() };
    }
    return !this.created.value;
  }

  private async openCaller(): Promise<Caller> {
    const defaultClient = await this.client(DEFAULT_CLIENT_ID);
    if (!defaultClient) throw new Error('the default client is missing: is the database migrated?');
    return { role: 'admin', open: true, defaultClient };
  }

  private async clientCaller(id: string): Promise<Caller> {
    const client = await this.client(id);
    if (!client) throw new ApiKeyUnauthorizedError();
    if (client.disabled) throw new ClientDisabledError();
    return { role: 'client', client };
  }

  private touch(keyId: string, now: number): void {
    this.repository
      .touchKey(keyId, now)
      .catch((error: Error) => this.logger.warn(`could not record the use of API key ${keyId}: ${error.message}`));
  }
}
