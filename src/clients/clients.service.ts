import { Injectable } from '@nestjs/common';
import {
  ApiKeyNotFoundError,
  ClientNotFoundError,
  DomainError,
  EncryptionKeyMissingError,
  ManagedByEnvironmentError,
} from '../common/domain-errors';
import { InvalidCursorError } from '../common/domain-errors';
import {
  type Client,
  ClientApiKey,
  type ClientChanges,
  type ClientSettings,
  DEFAULT_CLIENT_ID,
  SigningSecret,
} from './client.entity';
import { ClientDirectory } from './client-directory';
import { ClientsRepository } from './clients.repository';
import {
  keyDigestHex,
  newApiKey,
  newClientId,
  newKeyId,
  newSecretId,
  newSigningSecret,
  signingSecretProblem,
} from './credentials';
import {
  ClientDto,
  ClientListDto,
  type ClientSettingsDto,
  CreateClientDto,
  CreatedClientDto,
  DEFAULT_GRACE_PERIOD_SECONDS,
  IssuedApiKeyDto,
  ListClientsQueryDto,
  RotatedSigningSecretDto,
  RotateSigningSecretDto,
  UpdateClientDto,
} from './dto/client.dto';
import { SecretBox } from './secret-box';
import { secretAad, SigningSecrets } from './signing-secrets.service';
import { normalizedPrefix } from './webhook-url-prefix';

/** At most this many secrets sign a client's deliveries at once; a rotation drops the oldest beyond it. */
export const MAX_SIGNING_SECRETS = 5;

const DEFAULT_SETTINGS: ClientSettings = { weight: 1, maxInFlight: 0, maxBacklog: 0, intakeRateLimit: 0 };

/** The settings a body gives, over `base`. */
function settingsOf<T extends Partial<ClientSettings>>(dto: ClientSettingsDto, base: T): T & Partial<ClientSettings> {
  const given: Partial<ClientSettings> = {};
  if (dto.weight !== undefined) given.weight = dto.weight;
  if (dto.max_in_flight !== undefined) given.maxInFlight = dto.max_in_flight;
  if (dto.max_backlog !== undefined) given.maxBacklog = dto.max_backlog;
  if (dto.intake_rate_limit !== undefined) given.intakeRateLimit = dto.intake_rate_limit;
  return { ...base, ...given };
}

/**
 * Client management (admin keys only): clients, their API keys (shown once, stored as digests) and their signing
 * secrets (shown once, sealed under RELAY_ENCRYPTION_KEY). No answer here ever holds a key or secret but the one
 * just issued.
 */
@Injectable()
export class ClientsService {
  constructor(
    private readonly repository: ClientsRepository,
    private readonly directory: ClientDirectory,
    private readonly secrets: SigningSecrets,
    private readonly box: SecretBox,
  ) {}

  async create(dto: CreateClientDto): Promise<CreatedClientDto> {
    if (!this.box.canSeal) throw new EncryptionKeyMissingError();
    const now = Date.now();
    const client: Client = {
      id: newClientId(),
      name: dto.name,
      webhookUrlPrefixes: (dto.webhook_url_prefixes ?? []).map(normalizedPrefix),
      disabled: false,
      ...settingsOf(dto, DEFAULT_SETTINGS),
      createdAt: now,
      updatedAt: now,
    };
    const apiKey = newApiKey();
    const key: ClientApiKey = {
      id: newKeyId(),
      clientId: client.id,
      keyDigest: keyDigestHex(apiKey),
      createdAt: now,
      lastUsedAt: null,
    };
    const signingSecret = newSigningSecret();
    const secret = this.sealed(client.id, signingSecret, now);
    await this.repository.insertClient(client, key, secret);
    this.directory.forget(client.id);
    return { ...ClientDto.from(client, [key], [secret], false), api_key: apiKey, signing_secret: signingSecret };
  }

  async list(query: ListClientsQueryDto): Promise<ClientListDto> {
    const after = query.cursor === undefined ? null : decodeClientCursor(query.cursor);
    const rows = await this.repository.listClients(after, query.limit + 1);
    const page = rows.slice(0, query.limit);
    const items = await Promise.all(page.map((client) => this.describe(client)));
    const last = page.at(-1);
    return {
      items,
      limit: query.limit,
      next_cursor: rows.length > query.limit && last ? encodeClientCursor(last) : null,
    };
  }

  async get(clientId: string): Promise<ClientDto> {
    return this.describe(await this.existing(clientId));
  }

  async update(clientId: string, dto: UpdateClientDto): Promise<ClientDto> {
    await this.existing(clientId);
    const changes: ClientChanges = settingsOf(dto, {});
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.webhook_url_prefixes !== undefined)
      changes.webhookUrlPrefixes = dto.webhook_url_prefixes.map(normalizedPrefix);
    if (dto.disabled !== undefined) changes.disabled = dto.disabled;
    if (Object.keys(changes).length > 0) await this.repository.updateClient(clientId, changes);
    this.directory.forget(clientId);
    return this.get(clientId);
  }

  async issueKey(clientId: string): Promise<IssuedApiKeyDto> {
    await this.managedHere(clientId, 'API keys');
    const apiKey = newApiKey();
    const key: ClientApiKey = {
      id: newKeyId(),
      clientId,
      keyDigest: keyDigestHex(apiKey),
      createdAt: Date.now(),
      lastUsedAt: null,
    };
    await this.repository.insertKey(key);
    return { key_id: key.id, api_key: apiKey, created_at: new Date(key.createdAt).toISOString() };
  }

  async revokeKey(clientId: string, keyId: string): Promise<void> {
    await this.managedHere(clientId, 'API keys');
    if (!(await this.repository.deleteKey(clientId, keyId))) throw new ApiKeyNotFoundError(keyId);
  }

  async rotateSecret(clientId: string, dto: RotateSigningSecretDto): Promise<RotatedSigningSecretDto> {
    await this.managedHere(clientId, 'signing secrets');
    if (!this.box.canSeal) throw new EncryptionKeyMissingError();
    const supplied = dto.signing_secret;
    const problem = supplied === undefined ? null : signingSecretProblem(supplied);
    if (problem) throw new DomainError('validation_failed', problem, [problem]);
    const signingSecret = supplied ?? newSigningSecret();
    const graceMs = (dto.grace_period_seconds ?? DEFAULT_GRACE_PERIOD_SECONDS) * 1000;
    const secret = this.sealed(clientId, signingSecret, Date.now());
    const previousExpiresAt = await this.repository.rotateSecret(secret, graceMs, MAX_SIGNING_SECRETS);
    this.secrets.forget(clientId);
    return { signing_secret: signingSecret, previous_expires_at: new Date(previousExpiresAt).toISOString() };
  }

  private sealed(clientId: string, plaintext: string, now: number): SigningSecret {
    const secret: SigningSecret = { id: newSecretId(), clientId, ciphertext: '', createdAt: now, expiresAt: null };
    secret.ciphertext = this.box.seal(plaintext, secretAad(secret));
    return secret;
  }

  private async describe(client: Client): Promise<ClientDto> {
    const managed = client.id === DEFAULT_CLIENT_ID;
    const [keys, secrets] = managed
      ? [[], []]
      : await Promise.all([this.repository.listKeys(client.id), this.repository.signingSecrets(client.id, Date.now())]);
    return ClientDto.from(client, keys, secrets, managed);
  }

  private async existing(clientId: string): Promise<Client> {
    const client = await this.repository.findClient(clientId);
    if (!client) throw new ClientNotFoundError(clientId);
    return client;
  }

  /** The default client's keys and secret live in the environment: the API does not touch them. */
  private async managedHere(clientId: string, what: string): Promise<void> {
    await this.existing(clientId);
    if (clientId === DEFAULT_CLIENT_ID) throw new ManagedByEnvironmentError(what);
  }
}

const CLIENT_POSITION = /^(\d{1,15}):(default|cli_[0-9a-f]{24})$/;

function encodeClientCursor(client: Client): string {
  return Buffer.from(`${client.createdAt}:${client.id}`).toString('base64url');
}

function decodeClientCursor(cursor: string): { createdAt: number; id: string } {
  const match = CLIENT_POSITION.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match) throw new InvalidCursorError();
  return { createdAt: Number(match[1]), id: match[2] };
}
