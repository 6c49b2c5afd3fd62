import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { closeAfterEach } from '../support/cleanup';
import { callingBackLlm, eventually, type RecordedRequest } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { type RunningRelay, tempDir } from '../support/relay';
import { runUntilExit } from '../support/relay-process';
import {
  Admin,
  apiKeyForms,
  bearer,
  type CreatedClient,
  encryptionKeyId,
  expectSignedBy,
  newEncryptionKey,
  newWhsec,
  plainForms,
  secretForms,
} from '../support/signing';

const ADMIN_KEY = 'admin-key-secrets-at-rest-0123456789';
const CIPHERTEXT = /^v1:([0-9a-f]{8}):([A-Za-z0-9+/]+={0,2})$/;

/** The stored signing secrets, read straight from the SQLite file (the relay closed). */
function storedSecrets(dir: string): { id: string; client_id: string; ciphertext: string }[] {
  const db = new Database(path.join(dir, 'relay.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, client_id, ciphertext FROM client_signing_secrets ORDER BY id').all() as any[];
  } finally {
    db.close();
  }
}

describe('signing secrets at rest: sealed under RELAY_ENCRYPTION_KEY (SQLite)', () => {
  const stack = useLoopbackStack({ llm: callingBackLlm(), relay: false, env: { RELAY_ADMIN_KEYS: ADMIN_KEY } });
  const later = closeAfterEach();
  let dir: string;
  beforeEach(() => {
    dir = tempDir('relay-at-rest-');
    later(() => fs.rmSync(dir, { recursive: true, force: true }));
  });

  /** A relay on this test's SQLite file, closed after the test (closing twice is harmless). */
  async function relayWith(env: NodeJS.ProcessEnv): Promise<{ relay: RunningRelay; admin: Admin }> {
    const relay = await stack.startAnother(env, dir);
    later(() => relay.close());
    return { relay, admin: new Admin(relay.url, ADMIN_KEY) };
  }

  async function deliveredFor(relay: RunningRelay, client: CreatedClient): Promise<RecordedRequest> {
    const jobId = await stack.clientFor(relay).submit({}, bearer(client.api_key));
    return eventually(() => stack.web.for(jobId)[0], `the delivery of ${jobId}`);
  }

  /** The start of the built relay on this file, expected to fail: its exit code and output. */
  function failedStart(env: NodeJS.ProcessEnv) {
    return runUntilExit({ DATABASE_URL: `sqlite:///${dir}/relay.db`, RELAY_ADMIN_KEYS: ADMIN_KEY, ...env });
  }

  it('without RELAY_ENCRYPTION_KEY creates no client: 409 encryption_key_missing', async () => {
    const { admin } = await relayWith({});
    const answer = await admin.post('/v1/clients', { name: 'no key' });
    expect([answer.status, answer.body.code]).toEqual([409, 'encryption_key_missing']);
    expect(answer.body.message).toMatch(/RELAY_ENCRYPTION_KEY/);
    const listed = await admin.get('/v1/clients');
    expect(listed.body.items.map((client: any) => client.client_id)).toEqual(['default']);
  });

  it('refuses to start when a stored secret cannot be opened, naming both variables; the right key opens it', async () => {
    const k1 = newEncryptionKey();
    const first = await relayWith({ RELAY_ENCRYPTION_KEY: k1 });
    const client = await first.admin.createClient();
    await first.relay.close();

    for (const env of [{}, { RELAY_ENCRYPTION_KEY: newEncryptionKey() }]) {
      const { code, output } = await failedStart(env);
      expect(code).not.toBe(0);
      expect(output).toContain(client.client_id);
      expect(output).toContain(encryptionKeyId(k1));
      expect(output).toMatch(/RELAY_ENCRYPTION_KEY/);
      expect(output).toMatch(/RELAY_ENCRYPTION_PREVIOUS_KEYS/);
      expect(output).not.toContain(k1);
      expect(output).not.toMatch(/listening on/);
    }
    const again = await relayWith({ RELAY_ENCRYPTION_KEY: k1 });
    expectSignedBy(await deliveredFor(again.relay, client), [client.signing_secret]);
  });

  it('with the key only in RELAY_ENCRYPTION_PREVIOUS_KEYS: opens and signs, but creates and rotates nothing (409)', async () => {
    const k1 = newEncryptionKey();
    const first = await relayWith({ RELAY_ENCRYPTION_KEY: k1 });
    const client = await first.admin.createClient();
    await first.relay.close();
    const sealed = storedSecrets(dir);

    const { relay, admin } = await relayWith({ RELAY_ENCRYPTION_PREVIOUS_KEYS: k1 });
    expectSignedBy(await deliveredFor(relay, client), [client.signing_secret]);
    const created = await admin.post('/v1/clients', { name: 'not sealable' });
    expect([created.status, created.body.code]).toEqual([409, 'encryption_key_missing']);
    for (const body of [{}, { grace_period_seconds: 0 }, { signing_secret: newWhsec() }]) {
      const rotated = await admin.rotateAnswer(client.client_id, body);
      expect([rotated.status, rotated.body.code]).toEqual([409, 'encryption_key_missing']);
    }
    await relay.close();
    // Nothing was resealed (there is no current key to seal under) and nothing was added.
    expect(storedSecrets(dir)).toEqual(sealed);
  });

  it('rotates the encryption key: K2 with K1 previous reseals everything under K2, then K2 alone is enough', async () => {
    const [k1, k2] = [newEncryptionKey(), newEncryptionKey()];
    const first = await relayWith({ RELAY_ENCRYPTION_KEY: k1 });
    const a = await first.admin.createClient('a');
    const b = await first.admin.createClient('b');
    const bRotated = await first.admin.rotate(b.client_id, { grace_period_seconds: 3600 });
    await first.relay.close();
    const underK1 = storedSecrets(dir);
    expect(underK1).toHaveLength(3);
    for (const row of underK1) expect(CIPHERTEXT.exec(row.ciphertext)?.[1]).toBe(encryptionKeyId(k1));

    const second = await relayWith({ RELAY_ENCRYPTION_KEY: k2, RELAY_ENCRYPTION_PREVIOUS_KEYS: k1 });
    expectSignedBy(await deliveredFor(second.relay, a), [a.signing_secret], [b.signing_secret]);
    expectSignedBy(await deliveredFor(second.relay, b), [bRotated.signing_secret, b.signing_secret]);
    await second.relay.close();
    const underK2 = storedSecrets(dir);
    expect(underK2.map((row) => row.id)).toEqual(underK1.map((row) => row.id));
    for (const [index, row] of underK2.entries()) {
      expect(CIPHERTEXT.exec(row.ciphertext)?.[1]).toBe(encryptionKeyId(k2));
      expect(row.ciphertext).not.toBe(underK1[index].ciphertext);
    }

    const third = await relayWith({ RELAY_ENCRYPTION_KEY: k2 });
    expectSignedBy(await deliveredFor(third.relay, a), [a.signing_secret]);
    expectSignedBy(await deliveredFor(third.relay, b), [bRotated.signing_secret, b.signing_secret]);
    await third.relay.close();
    // Nothing is left under K1: K1 alone no longer opens the secrets.
    const { code, output } = await failedStart({ RELAY_ENCRYPTION_KEY: k1 });
    expect(code).not.toBe(0);
    expect(output).toContain(encryptionKeyId(k2));
  });

  it('a secret this replica cannot open sends nothing: the attempt fails retryably, naming why, until it can', async () => {
    const { relay, admin } = await relayWith({
      RELAY_ENCRYPTION_KEY: newEncryptionKey(),
      CALLBACK_BACKOFF_SECONDS: '0.2',
      CALLBACK_MAX_BACKOFF_SECONDS: '0.2',
      CALLBACK_MAX_RETRIES: '50',
    });
    const client = await admin.createClient('resealed elsewhere');
    const db = relay.app.get(DataSource);
    const [row] = await db.query<{ id: string; ciphertext: string }[]>(
      'SELECT id, ciphertext FROM client_signing_secrets WHERE client_id = ?',
      [client.client_id],
    );
    // As another replica given a new RELAY_ENCRYPTION_KEY would leave it: sealed under a key this one lacks.
    const foreign = row.ciphertext.replace(CIPHERTEXT, (_, _id: string, payload: string) => `v1:0badc0de:${payload}`);
    await db.query('UPDATE client_signing_secrets SET ciphertext = ? WHERE id = ?', [foreign, row.id]);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the secrets' cache (one second)

    const api = stack.clientFor(relay);
    const jobId = await api.submit({}, bearer(client.api_key));
    const failed = await eventually(async () => {
      const attempts = await admin.get(`/v1/reviews/${jobId}/attempts`);
      const deliveries = (attempts.body.items ?? []).filter((item: any) => item.leg === 'delivery');
      return deliveries.length >= 2 ? deliveries : undefined;
    }, 'two failed delivery attempts');
    for (const attempt of failed) {
      expect(attempt).toMatchObject({ status_code: null, error: expect.stringContaining('0badc0de') });
      expect(attempt.error).toMatch(/^not sent: a signing secret is sealed under key 0badc0de/);
    }
    expect(stack.web.for(jobId)).toHaveLength(0);
    expect((await admin.get(`/v1/reviews/${jobId}`)).body.status).toBe('delivering');

    await db.query('UPDATE client_signing_secrets SET ciphertext = ? WHERE id = ?', [row.ciphertext, row.id]);
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery once the secret opens');
    expectSignedBy(delivery, [client.signing_secret]);
  });

  it('in production, refuses to start without RELAY_ENCRYPTION_KEY once clients exist', async () => {
    const production = {
      NODE_ENV: 'production',
      CALLBACK_HMAC_SECRET: 'production-callback-secret-0123456789abcdef',
      LLM_API_URL: stack.llm.url,
    };
    const key = newEncryptionKey();
    // No client yet: production starts without the key.
    const empty = await relayWith(production);
    expect((await empty.admin.get('/v1/clients')).status).toBe(200);
    await empty.relay.close();

    const withKey = await relayWith({ ...production, RELAY_ENCRYPTION_KEY: key });
    const client = await withKey.admin.createClient();
    await withKey.relay.close();

    const { code, output } = await failedStart(production);
    expect(code).not.toBe(0);
    expect(output).toMatch(/RELAY_ENCRYPTION_KEY must be set in production/);
    expect(output).not.toMatch(/listening on/);
    // The same start with the key works, and still knows the client.
    const again = await relayWith({ ...production, RELAY_ENCRYPTION_KEY: key });
    expect((await again.admin.get(`/v1/clients/${client.client_id}`)).status).toBe(200);
  });

  it('keeps no API key, signing secret, admin key or encryption key in the database files, in any encoding', async () => {
    const encryptionKey = newEncryptionKey();
    const { relay, admin } = await relayWith({ RELAY_ENCRYPTION_KEY: encryptionKey });
    const a = await admin.createClient('a');
    const b = await admin.createClient('b');
    const extra = await admin.issueKey(a.client_id);
    const revoked = await admin.issueKey(b.client_id);
    expect((await admin.delete(`/v1/clients/${b.client_id}/api-keys/${revoked.key_id}`)).status).toBe(204);
    const supplied = newWhsec(48);
    const aSecrets = [
      a.signing_secret,
      (await admin.rotate(a.client_id, { signing_secret: supplied, grace_period_seconds: 3600 })).signing_secret,
      (await admin.rotate(a.client_id, { grace_period_seconds: 3600 })).signing_secret,
    ];
    const bSecrets = [
      b.signing_secret,
      (await admin.rotate(b.client_id, { grace_period_seconds: 0 })).signing_secret,
      (await admin.rotate(b.client_id, { signing_secret: newWhsec(24), grace_period_seconds: 0 })).signing_secret,
    ];
    expect(aSecrets[1]).toBe(supplied);
    expectSignedBy(await deliveredFor(relay, { ...a, api_key: extra.api_key }), aSecrets.slice().reverse());
    expectSignedBy(await deliveredFor(relay, b), [bSecrets[2]], bSecrets.slice(0, 2));

    const forbidden = [
      ...[a.api_key, b.api_key, extra.api_key, revoked.api_key].flatMap((key) =>
        apiKeyForms(key).map((form) => ({ ...form, name: `API key ${key.slice(0, 8)}…: ${form.name}` })),
      ),
      ...[...aSecrets, ...bSecrets].flatMap((secret) =>
        secretForms(secret).map((form) => ({ ...form, name: `secret ${secret.slice(0, 10)}…: ${form.name}` })),
      ),
      ...plainForms(ADMIN_KEY).map((form) => ({ ...form, name: `admin key: ${form.name}` })),
      ...plainForms(encryptionKey, true).map((form) => ({ ...form, name: `encryption key: ${form.name}` })),
    ];
    const files = () =>
      fs
        .readdirSync(dir)
        .filter((name) => name.startsWith('relay.db'))
        .map((name) => ({ name, bytes: fs.readFileSync(path.join(dir, name)) }));
    const leaks = (found: { name: string; bytes: Buffer }[]) =>
      found.flatMap((file) =>
        forbidden.filter((form) => file.bytes.includes(form.bytes)).map((form) => `${file.name}: ${form.name}`),
      );

    // While the relay runs: the main file, the WAL holding the latest writes, the shared-memory index, the lock.
    const running = files();
    expect(running.map((file) => file.name)).toEqual(expect.arrayContaining(['relay.db', 'relay.db-wal']));
    expect(leaks(running)).toEqual([]);
    // The scan sees the rows: the key digest (stored on purpose) and the client id are in those bytes.
    const digest = Buffer.from(createHash('sha256').update(extra.api_key).digest('hex'));
    expect(running.some((file) => file.bytes.includes(digest))).toBe(true);

    await relay.close();
    const closed = files();
    expect(closed.map((file) => file.name)).toContain('relay.db');
    expect(leaks(closed)).toEqual([]);
    const all = Buffer.concat(closed.map((file) => file.bytes));
    expect(all.includes(digest)).toBe(true);
    expect(all.includes(Buffer.from(a.client_id))).toBe(true);
    const stored = storedSecrets(dir);
    expect(stored.filter((row) => row.client_id === a.client_id)).toHaveLength(3);
    expect(stored.filter((row) => row.client_id === b.client_id)).toHaveLength(1);
    for (const row of stored) {
      expect(row.ciphertext).toMatch(CIPHERTEXT);
      expect(all.includes(Buffer.from(row.ciphertext))).toBe(true);
    }
  });
});
