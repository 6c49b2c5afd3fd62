import { randomBytes } from 'node:crypto';
import { callingBackLlm, eventually, type RecordedRequest } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { RelayClient } from '../support/relay-client';
import {
  Admin,
  bearer,
  type CreatedClient,
  expectSignedBy,
  newEncryptionKey,
  newWhsec,
  signatureEntries,
  verifies,
} from '../support/signing';

const ADMIN_KEY = 'admin-key-signing-rotation-0123456789';
const DEFAULT_SECRET = 'default-secret-signing-rotation';

describe("each client's deliveries are signed with its own secrets, through rotations (SQLite)", () => {
  const stack = useLoopbackStack({
    llm: callingBackLlm(),
    env: {
      RELAY_ADMIN_KEYS: ADMIN_KEY,
      RELAY_ENCRYPTION_KEY: newEncryptionKey(),
      CALLBACK_HMAC_SECRET: DEFAULT_SECRET,
    },
  });
  let admin: Admin;
  beforeAll(() => {
    admin = new Admin(stack.relay.url, ADMIN_KEY);
  });

  /** Submits a job with the client's key (Bearer) and returns its first delivery. */
  async function deliveredFor(client: CreatedClient, submissionId = 'subm'): Promise<RecordedRequest> {
    const jobId = await stack.client.submit({ submission_id: submissionId }, bearer(client.api_key));
    const delivery = await eventually(() => stack.web.for(jobId)[0], `the delivery of ${jobId}`);
    expect(delivery.headers['webhook-id']).toBe(`msg_${jobId.replace(/^job_/, '')}`);
    expect(JSON.parse(delivery.body)).toMatchObject({ job_id: jobId, submission_id: submissionId, ok: true });
    return delivery;
  }

  async function secretsListed(clientId: string): Promise<{ created_at: string; expires_at: string | null }[]> {
    const answer = await admin.get(`/v1/clients/${clientId}`);
    expect(answer.status).toBe(200);
    return answer.body.signing_secrets;
  }

  it('two clients: each delivery verifies with its own secret, not the other one’s (nor the default’s)', async () => {
    const [a, b] = [await admin.createClient('LMS'), await admin.createClient('Exams')];
    for (const created of [a, b]) {
      expect(created.client_id).toMatch(/^cli_[0-9a-f]{24}$/);
      expect(created.api_key).toMatch(/^rk_[A-Za-z0-9_-]{43}$/);
      expect(created.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(created.signing_secret.slice(6), 'base64')).toHaveLength(32);
    }
    expect(a.signing_secret).not.toBe(b.signing_secret);
    const [toA, toB] = [await deliveredFor(a, 'for-a'), await deliveredFor(b, 'for-b')];
    expectSignedBy(toA, [a.signing_secret], [b.signing_secret, DEFAULT_SECRET]);
    expectSignedBy(toB, [b.signing_secret], [a.signing_secret, DEFAULT_SECRET]);
    // The management API shows them only in the creation answer: never in a listing or a read.
    const shown = [
      (await admin.get('/v1/clients?limit=100')).text,
      (await admin.get(`/v1/clients/${a.client_id}`)).text,
    ];
    for (const text of shown)
      for (const secret of [a.api_key, a.signing_secret, b.api_key, b.signing_secret])
        expect(text).not.toContain(secret.slice(6));
    expect(shown[1]).toContain(a.client_id);
  });

  it('during the grace period old and new both sign (X-Signature the new); after it the new alone', async () => {
    const client = await admin.createClient();
    const before = Date.now();
    const rotated = await admin.rotate(client.client_id, { grace_period_seconds: 2 });
    expect(Object.keys(rotated).sort()).toEqual(['previous_expires_at', 'signing_secret']);
    expect(rotated.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.signing_secret).not.toBe(client.signing_secret);
    expect(rotated.previous_expires_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    const expiresAt = Date.parse(rotated.previous_expires_at);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 2000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 2000);
    expect(await secretsListed(client.client_id)).toEqual([
      { created_at: expect.any(String), expires_at: null },
      { created_at: expect.any(String), expires_at: rotated.previous_expires_at },
    ]);

    const during = await deliveredFor(client, 'during-grace');
    expect(Date.now()).toBeLessThan(expiresAt); // otherwise the run was too slow to test the grace period
    expect(signatureEntries(during)).toHaveLength(2);
    expectSignedBy(during, [rotated.signing_secret, client.signing_secret]);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now() + 50)));
    const after = await deliveredFor(client, 'after-grace');
    expectSignedBy(after, [rotated.signing_secret], [client.signing_secret]);
    expect(await secretsListed(client.client_id)).toEqual([{ created_at: expect.any(String), expires_at: null }]);
  });

  it('grace_period_seconds 0 retires the old secret at once', async () => {
    const client = await admin.createClient();
    const before = Date.now();
    const rotated = await admin.rotate(client.client_id, { grace_period_seconds: 0 });
    expect(Date.parse(rotated.previous_expires_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(rotated.previous_expires_at)).toBeLessThanOrEqual(Date.now());
    expect(await secretsListed(client.client_id)).toHaveLength(1);
    expectSignedBy(await deliveredFor(client), [rotated.signing_secret], [client.signing_secret]);
  });

  it('stores and returns a supplied secret exactly (24 and 64 bytes, the bounds), and signs with it', async () => {
    const client = await admin.createClient();
    const short = newWhsec(24);
    const long = newWhsec(64);
    const first = await admin.rotate(client.client_id, { signing_secret: short, grace_period_seconds: 0 });
    expect(first.signing_secret).toBe(short);
    expectSignedBy(await deliveredFor(client, 'short'), [short], [client.signing_secret]);
    const second = await admin.rotate(client.client_id, { signing_secret: long, grace_period_seconds: 600 });
    expect(second.signing_secret).toBe(long);
    expectSignedBy(await deliveredFor(client, 'long'), [long, short], [client.signing_secret]);
  });

  it('refuses malformed secrets and grace periods (400) and changes nothing', async () => {
    const client = await admin.createClient();
    const base64Of = (bytes: number) => randomBytes(bytes).toString('base64');
    const refused: Record<string, unknown>[] = [
      { signing_secret: base64Of(32) }, // no whsec_
      { signing_secret: 'dev-secret-long-enough-to-look-fine-0123' },
      { signing_secret: 'whsec_' },
      { signing_secret: 'whsec_not base64 at all!!' },
      { signing_secret: 'whsec_' + base64Of(32).replace(/=+$/, '') }, // not canonical: padding missing
      { signing_secret: 'whsec_' + randomBytes(32).toString('base64url').replace(/=+$/, '') + '-_' }, // base64url
      { signing_secret: newWhsec(23) },
      { signing_secret: newWhsec(65) },
      { signing_secret: ` ${newWhsec(32)}` },
      { signing_secret: 12345 },
      { grace_period_seconds: -1 },
      { grace_period_seconds: 604_801 },
      { grace_period_seconds: 1.5 },
      { grace_period_seconds: '60' },
      { grace_period_seconds: 60, signing_secret: newWhsec(16) },
    ];
    for (const body of refused) {
      const answer = await admin.rotateAnswer(client.client_id, body);
      expect({ body, status: answer.status, code: answer.body?.code }).toEqual({
        body,
        status: 400,
        code: 'validation_failed',
      });
      // The refusal does not echo the refused secret.
      if (typeof body.signing_secret === 'string' && body.signing_secret.length > 16)
        expect(answer.text).not.toContain(body.signing_secret.trim());
    }
    expect(await secretsListed(client.client_id)).toEqual([{ created_at: expect.any(String), expires_at: null }]);
    expectSignedBy(await deliveredFor(client), [client.signing_secret]);
    // The largest grace period is accepted; none given means a day.
    const widest = await admin.rotate(client.client_id, { grace_period_seconds: 604_800 });
    expect(Date.parse(widest.previous_expires_at) - Date.now()).toBeGreaterThan(604_790_000);
    const byDefault = await admin.rotate(client.client_id, {});
    expect(Math.abs(Date.parse(byDefault.previous_expires_at) - Date.now() - 86_400_000)).toBeLessThan(10_000);
  });

  it('signs with at most five secrets, newest first (six rotations with a long grace period)', async () => {
    const client = await admin.createClient();
    const secrets = [client.signing_secret];
    for (let i = 0; i < 6; i += 1) {
      const supplied = i % 2 === 0 ? { signing_secret: newWhsec() } : {};
      secrets.push((await admin.rotate(client.client_id, { grace_period_seconds: 3600, ...supplied })).signing_secret);
    }
    const newestFirst = secrets.slice().reverse();
    const delivery = await deliveredFor(client);
    expect(signatureEntries(delivery)).toHaveLength(5);
    expectSignedBy(delivery, newestFirst.slice(0, 5), newestFirst.slice(5));
    const listed = await secretsListed(client.client_id);
    expect(listed).toHaveLength(5);
    expect(listed[0].expires_at).toBeNull();
    expect(listed.slice(1).every((secret) => secret.expires_at !== null)).toBe(true);
  });

  it('signs a redelivery after a rotation with the secrets current then', async () => {
    const client = await admin.createClient();
    const first = await deliveredFor(client, 'redelivered');
    const jobId = JSON.parse(first.body).job_id;
    expectSignedBy(first, [client.signing_secret]);
    await new RelayClient(stack.relay.url, { apiKey: client.api_key }).waitForStatus(jobId, 'delivered');
    const rotated = await admin.rotate(client.client_id, { grace_period_seconds: 0 });
    const answer = await stack.client.post(`/v1/reviews/${jobId}/redeliver`, undefined, bearer(client.api_key).headers);
    expect(answer.status).toBe(202);
    const again = await eventually(() => stack.web.for(jobId)[1], 'the redelivery');
    expect(again.body).toBe(first.body);
    expect(again.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expectSignedBy(again, [rotated.signing_secret], [client.signing_secret]);
  });

  it('concurrent rotations leave one current secret (the newest) and at most five', async () => {
    const client = await admin.createClient();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => admin.rotateAnswer(client.client_id, { grace_period_seconds: 600 })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    const listed = await secretsListed(client.client_id);
    expect(listed).toHaveLength(5);
    expect(listed.filter((secret) => secret.expires_at === null)).toHaveLength(1);
    const delivery = await deliveredFor(client);
    expect(signatureEntries(delivery)).toHaveLength(5);
    const returned = answers.map((answer) => answer.body.signing_secret as string);
    // The five newest of the eight sign; the three oldest and the first secret no longer do.
    expect(returned.filter((secret) => verifies(secret, delivery))).toHaveLength(5);
    expect(verifies(client.signing_secret, delivery)).toBe(false);
  });

  it('takes rotations from admin keys only, and never for the environment-managed default client', async () => {
    const client = await admin.createClient();
    const byClient = await stack.client.post(
      `/v1/clients/${client.client_id}/signing-secret/rotate`,
      {},
      bearer(client.api_key).headers,
    );
    expect([byClient.status, byClient.body.code]).toEqual([403, 'admin_key_required']);
    const forDefault = await admin.rotateAnswer('default', { grace_period_seconds: 0 });
    expect([forDefault.status, forDefault.body.code]).toEqual([409, 'managed_by_environment']);
    const unknown = await admin.rotateAnswer(`cli_${'0'.repeat(24)}`, {});
    expect([unknown.status, unknown.body.code]).toEqual([404, 'client_not_found']);
    expectSignedBy(await deliveredFor(client), [client.signing_secret]);
  });
});

describe('the default client signs with CALLBACK_HMAC_SECRET and CALLBACK_HMAC_PREVIOUS_SECRETS', () => {
  const stack = useLoopbackStack({
    llm: false,
    env: { CALLBACK_HMAC_SECRET: 'new', CALLBACK_HMAC_PREVIOUS_SECRETS: 'old1', RELAY_API_KEYS: 'default-key-1' },
  });

  it('carries both in webhook-signature (newest first), X-Signature with CALLBACK_HMAC_SECRET', async () => {
    const jobId = await stack.client.submit({}, bearer('default-key-1'));
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery (simulated LLM)');
    expect(signatureEntries(delivery)).toHaveLength(2);
    expectSignedBy(delivery, ['new', 'old1'], ['old2', 'dev-secret']);
    expect(verifies('old1', delivery)).toBe(true);
  });
});
