import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../database/columns';

/** The id of the built-in client: its keys are RELAY_API_KEYS and its signing secret CALLBACK_HMAC_SECRET. */
export const DEFAULT_CLIENT_ID = 'default';

/** One web service: its jobs, keys and signing secrets are its own (see docs/clients.md). */
@Entity({ name: 'clients' })
@Index('idx_clients_created', ['createdAt', 'id'])
export class Client {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Where its webhooks may point (parsed URLs, compared by origin and path segments); empty: anywhere allowed. */
  @Column({ name: 'webhook_url_prefixes', type: 'text', transformer: jsonText })
  webhookUrlPrefixes: string[];

  /** A disabled client's keys are refused (403); its accepted jobs still finish. */
  @Column({ type: 'boolean' })
  disabled: boolean;

  /** Its share of the LLM against the other clients with jobs waiting (1–100). */
  @Column({ type: 'integer', default: 1 })
  weight: number;

  /** Its jobs at the LLM at most (0: no cap of its own). */
  @Column({ name: 'max_in_flight', type: 'integer', default: 0 })
  maxInFlight: number;

  /** Its jobs waiting for their forward at most; beyond it intake answers 503 `backlog_full` (0: none). */
  @Column({ name: 'max_backlog', type: 'integer', default: 0 })
  maxBacklog: number;

  /** Its intake requests per INTAKE_RATE_WINDOW_SECONDS at most; beyond it 429 (0: none of its own). */
  @Column({ name: 'intake_rate_limit', type: 'integer', default: 0 })
  intakeRateLimit: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt: number;
}

/** An API key of a client, kept only as the SHA-256 digest of the key (looked up by digest). */
@Entity({ name: 'client_api_keys' })
export class ClientApiKey {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'client_id', type: 'varchar', length: 40 })
  clientId: string;

  @Column({ name: 'key_digest', type: 'varchar', length: 64, unique: true })
  keyDigest: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;

  /** Written at most once a minute per key. */
  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastUsedAt: number | null;
}

/** A signing secret of a client, encrypted (SecretBox); it signs deliveries until `expiresAt` (null: no end). */
@Entity({ name: 'client_signing_secrets' })
export class SigningSecret {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ name: 'client_id', type: 'varchar', length: 40 })
  clientId: string;

  @Column({ type: 'text' })
  ciphertext: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  expiresAt: number | null;
}

/** A client's fair-share settings (see docs/clients.md). */
export type ClientSettings = Pick<Client, 'weight' | 'maxInFlight' | 'maxBacklog' | 'intakeRateLimit'>;

/** What PATCH may change. */
export type ClientChanges = Partial<Pick<Client, 'name' | 'webhookUrlPrefixes' | 'disabled'> & ClientSettings>;

export const CLIENT_ENTITIES = [Client, ClientApiKey, SigningSecret];
