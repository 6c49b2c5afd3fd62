import { callingBackLlm, eventually, type RecordedRequest } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { type RunningRelay } from '../support/relay';
import { RelayClient } from '../support/relay-client';
import {
  Admin,
  bearer,
  type CreatedClient,
  expectSignedBy,
  newEncryptionKey,
  signatureEntries,
  verifies,
} from '../support/signing';

const ADMIN_KEY = 'admin-key-clients-replicas-0123456789';
/** SECRETS_CACHE_MS: how long a replica trusts the secrets it read (src/clients/signing-secrets.service.ts). */
const SECRETS_CACHE_MS = 1_000;

(postgresReachable('the clients-on-replicas PostgreSQL suite') ? describe : describe.skip)(
  'clients on two replicas sharing one PostgreSQL database',
  () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    const stack = useLoopbackStack({ llm: callingBackLlm(), relay: false, env: { RELAY_ADMIN_KEYS: ADMIN_KEY } });
    const encryptionKey = newEncryptionKey();
    /** Replica A takes the admin's changes. It ticks once an hour and may not post to loopback, so it delivers nothing. */
    let a: RunningRelay;
    /** Replica B takes the jobs and does all the work (forward, callback, delivery). */
    let b: RunningRelay;
    /** A third replica started without RELAY_ENCRYPTION_KEY (before any client existed); idle like A. */
    let keyless: RunningRelay;
    let adminA: Admin;
    let adminB: Admin;

    beforeAll(async () => {
      database = await createTestDatabase();
      const idle = { SCHEDULER_INTERVAL_MS: '3600000', ALLOW_PRIVATE_WEBHOOK_URLS: 'false' };
      keyless = await stack.startAnother({ DATABASE_URL: database.url, ...idle });
      a = await stack.startAnother({ DATABASE_URL: database.url, RELAY_ENCRYPTION_KEY: encryptionKey, ...idle });
      b = await stack.startAnother({ DATABASE_URL: database.url, RELAY_ENCRYPTION_KEY: encryptionKey });
      adminA = new Admin(a.url, ADMIN_KEY);
      adminB = new Admin(b.url, ADMIN_KEY);
    });
    // After the stack's own afterAll has closed the relays.
    afterAll(() => database?.drop());

    /** A job submitted on B with the client's key, delivered by B: its delivery. */
    async function deliveredByB(client: CreatedClient, apiKey = client.api_key): Promise<RecordedRequest> {
      const jobId = await stack.clientFor(b).submit({}, bearer(apiKey));
      const delivery = await eventually(() => stack.web.for(jobId)[0], `the delivery of ${jobId}`);
      // One delivery attempt, a success: B sent it (A's attempt would have been refused, as loopback is private).
      const attempts = await eventually(async () => {
        const items = await new RelayClient(b.url, { apiKey }).attempts(jobId);
        return items.length === 2 && items;
      }, 'both attempts recorded');
      expect(attempts.map((attempt: any) => [attempt.leg, attempt.outcome])).toEqual([
        ['forward', 'success'],
        ['delivery', 'success'],
      ]);
      return delivery;
    }

    /** GET /v1/reviews with a client's key on a replica: 200, or 401 once the key is revoked. */
    async function statusWith(relay: RunningRelay, apiKey: string): Promise<[number, string | undefined]> {
      const response = await relay.http.get('/v1/reviews?limit=1').set('authorization', `Bearer ${apiKey}`);
      return [response.status, response.body?.code];
    }

    it('a client created on A is usable on B at once', async () => {
      const client = await adminA.createClient('created on A');
      const seen = await adminB.get(`/v1/clients/${client.client_id}`);
      expect([seen.status, seen.body.name]).toEqual([200, 'created on A']);
      expectSignedBy(await deliveredByB(client), [client.signing_secret]);
    });

    it('a key revoked on one replica is refused on the other from the very next request', async () => {
      const client = await adminA.createClient();
      const second = await adminA.issueKey(client.client_id);
      const first = (await adminA.get(`/v1/clients/${client.client_id}`)).body.api_keys.find(
        (key: any) => key.key_id !== second.key_id,
      ).key_id;
      // Both keys work on both replicas (and whatever B caches about the client is warm).
      for (const relay of [a, b]) {
        expect(await statusWith(relay, client.api_key)).toEqual([200, undefined]);
        expect(await statusWith(relay, second.api_key)).toEqual([200, undefined]);
      }
      expect((await adminA.delete(`/v1/clients/${client.client_id}/api-keys/${first}`)).status).toBe(204);
      expect(await statusWith(b, client.api_key)).toEqual([401, 'invalid_api_key']);
      expect(await statusWith(b, second.api_key)).toEqual([200, undefined]);
      // And the other way round.
      expect((await adminB.delete(`/v1/clients/${client.client_id}/api-keys/${second.key_id}`)).status).toBe(204);
      expect(await statusWith(a, second.api_key)).toEqual([401, 'invalid_api_key']);
      expect(await statusWith(b, second.api_key)).toEqual([401, 'invalid_api_key']);
    });

    it('a secret rotated on A signs the deliveries B sends within about a second', async () => {
      const client = await adminA.createClient();
      // B delivers once with the first secret, so it holds that secret when the rotation happens.
      expectSignedBy(await deliveredByB(client), [client.signing_secret]);

      const replaced = await adminA.rotate(client.client_id, { grace_period_seconds: 0 });
      await new Promise((resolve) => setTimeout(resolve, SECRETS_CACHE_MS + 100));
      expectSignedBy(await deliveredByB(client), [replaced.signing_secret], [client.signing_secret]);

      const added = await adminA.rotate(client.client_id, { grace_period_seconds: 600 });
      await new Promise((resolve) => setTimeout(resolve, SECRETS_CACHE_MS + 100));
      expectSignedBy(
        await deliveredByB(client),
        [added.signing_secret, replaced.signing_secret],
        [client.signing_secret],
      );
    });

    /**
     * Eight rotations of one client at once, half on each replica: all answered 200. Each rotation must see the ones
     * committed before it (as on SQLite, test/legs/signing-rotation): one secret current, at most five signing.
     */
    async function concurrentRotations(client: CreatedClient, grace: number): Promise<string[]> {
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 === 0 ? adminA : adminB).rotateAnswer(client.client_id, { grace_period_seconds: grace }),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
      return answers.map((answer) => answer.body.signing_secret);
    }

    it('concurrent rotations with a grace period leave one current secret and at most five signing', async () => {
      const client = await adminA.createClient();
      const returned = await concurrentRotations(client, 600);
      const listed = (await adminA.get(`/v1/clients/${client.client_id}`)).body.signing_secrets;
      expect({
        current: listed.filter((secret: any) => secret.expires_at === null).length,
        all: listed.length,
      }).toEqual({ current: 1, all: 5 });
      await new Promise((resolve) => setTimeout(resolve, SECRETS_CACHE_MS + 100));
      const delivery = await deliveredByB(client);
      expect(signatureEntries(delivery)).toHaveLength(5);
      expect(returned.filter((secret) => verifies(secret, delivery))).toHaveLength(5);
    });

    it('concurrent rotations without a grace period leave exactly one secret signing', async () => {
      const client = await adminA.createClient();
      const returned = await concurrentRotations(client, 0);
      const listed = (await adminA.get(`/v1/clients/${client.client_id}`)).body.signing_secrets;
      expect(listed).toEqual([{ created_at: expect.any(String), expires_at: null }]);
      await new Promise((resolve) => setTimeout(resolve, SECRETS_CACHE_MS + 100));
      const delivery = await deliveredByB(client);
      expect(signatureEntries(delivery)).toHaveLength(1);
      expect(returned.filter((secret) => verifies(secret, delivery))).toHaveLength(1);
    });

    it('a replica without RELAY_ENCRYPTION_KEY creates and rotates nothing (409 encryption_key_missing)', async () => {
      const client = await adminA.createClient();
      const keylessAdmin = new Admin(keyless.url, ADMIN_KEY);
      const created = await keylessAdmin.post('/v1/clients', { name: 'on the keyless replica' });
      expect([created.status, created.body.code]).toEqual([409, 'encryption_key_missing']);
      for (const body of [{}, { grace_period_seconds: 0 }]) {
        const rotated = await keylessAdmin.rotateAnswer(client.client_id, body);
        expect([rotated.status, rotated.body.code]).toEqual([409, 'encryption_key_missing']);
      }
      expect((await adminA.get(`/v1/clients/${client.client_id}`)).body.signing_secrets).toHaveLength(1);
      const names = (await adminA.get('/v1/clients?limit=100')).body.items.map((item: any) => item.name);
      expect(names).not.toContain('on the keyless replica');
      expectSignedBy(await deliveredByB(client), [client.signing_secret]);
    });
  },
);
