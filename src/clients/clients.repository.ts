import { Injectable } from '@nestjs/common';
import { DbValue, SqlExecutor } from '../database/sql-executor';
import { Client, ClientApiKey, type ClientChanges, DEFAULT_CLIENT_ID, SigningSecret } from './client.entity';

/** A key found by its digest: whose it is, and when it was last used. */
export interface KeyOwner {
  keyId: string;
  clientId: string;
  lastUsedAt: number | null;
}

/** Public for plan checks. */
export const KEY_BY_DIGEST = 'SELECT id, client_id, last_used_at FROM client_api_keys WHERE key_digest = ?';

/** The clients, their API keys (as digests) and their signing secrets (sealed): every statement on those tables. */
@Injectable()
export class ClientsRepository {
  constructor(private readonly sql: SqlExecutor) {}

  findClient(id: string): Promise<Client | null> {
    return this.sql.repository(Client).findOneBy({ id });
  }

  /** A page of clients in creation order (the default one first), after a `(created_at, id)` position. */
  async listClients(after: { createdAt: number; id: string } | null, limit: number): Promise<Client[]> {
    const query = this.sql
      .repository(Client)
      .createQueryBuilder('client')
      .orderBy('client.createdAt', 'ASC')
      .addOrderBy('client.id', 'ASC')
      .limit(limit);
    if (after) {
      query.where('(client.createdAt, client.id) > (:createdAt, :id)', { createdAt: after.createdAt, id: after.id });
    }
    return query.getMany();
  }

  /** Whether any client besides the built-in one exists (then the API is never open). */
  async anyCreatedClient(): Promise<boolean> {
    const { records } = await this.sql.execute('SELECT 1 AS found FROM clients WHERE id <> ? LIMIT 1', [
      DEFAULT_CLIENT_ID,
    ]);
    return records.length > 0;
  }

  /** A new client with its first key and secret, in one transaction. */
  async insertClient(client: Client, key: ClientApiKey, secret: SigningSecret): Promise<void> {
    await this.sql.transaction(async (execute) => {
      await execute(
        'INSERT INTO clients (id, name, webhook_url_prefixes, disabled, weight, max_in_flight, max_backlog, ' +
          'intake_rate_limit, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          client.id,
          client.name,
          JSON.stringify(client.webhookUrlPrefixes),
          client.disabled,
          client.weight,
          client.maxInFlight,
          client.maxBacklog,
          client.intakeRateLimit,
          client.createdAt,
          client.updatedAt,
        ],
      );
      await execute(...insertKeySql(key));
      await execute(...insertSecretSql(secret));
    });
  }

  async updateClient(id: string, changes: ClientChanges) {
    await this.sql.update(Client, { ...changes, updatedAt: DbValue.now() }, 'id = ?', [id]);
  }

  async keyByDigest(digest: string): Promise<KeyOwner | null> {
    const { records } = await this.sql.execute(KEY_BY_DIGEST, [digest]);
    const row = records[0];
    if (!row) return null;
    const lastUsedAt = row.last_used_at === null ? null : Number(row.last_used_at);
    return { keyId: String(row.id), clientId: String(row.client_id), lastUsedAt };
  }

  /** Records a key's use, unless another request (or replica) did within the last minute. */
  async touchKey(keyId: string, now: number): Promise<void> {
    await this.sql.execute(
      'UPDATE client_api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
      [now, keyId, now - 60_000],
    );
  }

  listKeys(clientId: string): Promise<ClientApiKey[]> {
    return this.sql.repository(ClientApiKey).find({ where: { clientId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async insertKey(key: ClientApiKey): Promise<void> {
    await this.sql.execute(...insertKeySql(key));
  }

  /** Returns whether the key existed (and belonged to the client). */
  async deleteKey(clientId: string, keyId: string): Promise<boolean> {
    const { affected } = await this.sql.execute('DELETE FROM client_api_keys WHERE id = ? AND client_id = ?', [
      keyId,
      clientId,
    ]);
    return affected === 1;
  }

  /** A client's secrets that still sign at `now`, newest first. */
  signingSecrets(clientId: string, now: number): Promise<SigningSecret[]> {
    return this.sql
      .repository(SigningSecret)
      .createQueryBuilder('secret')
      .where('secret.clientId = :clientId', { clientId })
      .andWhere('(secret.expiresAt IS NULL OR secret.expiresAt > :now)', { now })
      .orderBy('secret.createdAt', 'DESC')
      .addOrderBy('secret.id', 'DESC')
      .getMany();
  }

  /**
   * A rotation: the new secret signs from now; the ones signing until now keep signing for `graceMs` more (those
   * already ending sooner keep their end), at most `keep - 1` of them, the newest; expired ones are deleted. Rotations
   * of one client queue on its row (PostgreSQL: at READ COMMITTED each would otherwise miss the secret another just
   * added, leaving it without an end), and take their time once they hold it, so the newest secret is the last one
   * written. Returns when the previous secrets stop signing.
   */
  async rotateSecret(secret: SigningSecret, graceMs: number, keep: number): Promise<number> {
    return this.sql.transaction(async (execute) => {
      await execute(`SELECT id FROM clients WHERE id = ?${this.sql.dialect.forUpdate}`, [secret.clientId]);
      const now = Date.now();
      secret.createdAt = now;
      const previousExpiresAt = now + graceMs;
      await execute('DELETE FROM client_signing_secrets WHERE client_id = ? AND expires_at <= ?', [
        secret.clientId,
        now,
      ]);
      await execute(
        'UPDATE client_signing_secrets SET expires_at = ? WHERE client_id = ? AND (expires_at IS NULL OR expires_at > ?)',
        [previousExpiresAt, secret.clientId, previousExpiresAt],
      );
      const { records } = await execute(
        'SELECT id FROM client_signing_secrets WHERE client_id = ? ORDER BY created_at DESC, id DESC',
        [secret.clientId],
      );
      const dropped = records.slice(keep - 1).map((row) => String(row.id));
      for (const id of dropped) await execute('DELETE FROM client_signing_secrets WHERE id = ?', [id]);
      if (previousExpiresAt <= now) {
        await execute('DELETE FROM client_signing_secrets WHERE client_id = ?', [secret.clientId]);
      }
      await execute(...insertSecretSql(secret));
      return previousExpiresAt;
    });
  }

  allSecrets(): Promise<SigningSecret[]> {
    return this.sql.repository(SigningSecret).find();
  }

  async replaceCiphertext(id: string, ciphertext: string): Promise<void> {
    await this.sql.execute('UPDATE client_signing_secrets SET ciphertext = ? WHERE id = ?', [ciphertext, id]);
  }
}

function insertKeySql(key: ClientApiKey): [string, unknown[]] {
  return [
    'INSERT INTO client_api_keys (id, client_id, key_digest, created_at, last_used_at) VALUES (?, ?, ?, ?, ?)',
    [key.id, key.clientId, key.keyDigest, key.createdAt, key.lastUsedAt],
  ];
}

function insertSecretSql(secret: SigningSecret): [string, unknown[]] {
  return [
    'INSERT INTO client_signing_secrets (id, client_id, ciphertext, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    [secret.id, secret.clientId, secret.ciphertext, secret.createdAt, secret.expiresAt],
  ];
}
