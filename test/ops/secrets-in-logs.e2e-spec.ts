import * as fs from 'node:fs';
import { callingBackLlm, eventually, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';
import {
  Admin,
  apiKeyForms,
  bearer,
  expectSignedBy,
  newEncryptionKey,
  newWhsec,
  plainForms,
  secretForms,
} from '../support/signing';

describe('secrets never reach the logs', () => {
  const dir = tempDir('relay-logs-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** Credentials and signatures the fakes were sent: none may be logged either. */
  const seen: string[] = [];
  // The LLM refuses the first forward, then accepts and calls back.
  const stack = useLoopbackStack({
    relay: false,
    web: (request) => {
      seen.push(String(request.headers['x-signature']), String(request.headers['webhook-signature']));
      return { status: 200 };
    },
    llm: (request, index) => {
      seen.push(request.json.callback_token);
      if (index === 0) return { status: 503 };
      setTimeout(() => void postJson(request.json.callback_url, { ok: true, result: 'r' }).catch(() => undefined), 5);
      return { status: 202 };
    },
  });

  it('at the most verbose level, through a full cycle, forged callbacks and failures', async () => {
    const secrets = {
      apiKey: 'relay-api-key-SENTINEL-1',
      llmKey: 'llm-api-key-SENTINEL-2',
      hmac: 'hmac-secret-SENTINEL-3-0123456789abcdef',
    };
    const relay = await stack.startProcess({
      DATABASE_URL: `sqlite:///${dir}/relay.db`,
      LOG_LEVEL: 'verbose',
      RELAY_API_KEYS: secrets.apiKey,
      LLM_API_KEY: secrets.llmKey,
      CALLBACK_HMAC_SECRET: secrets.hmac,
    });
    const client = stack.clientFor(relay);
    const auth = { authorization: `Bearer ${secrets.apiKey}` };
    const jobId = await client.submit({ webhook_url: `${stack.hook}?receiver_secret=SENTINEL-4` }, { headers: auth });
    await eventually(() => stack.web.for(jobId).length === 1, 'the delivery');
    // The attempt's log line follows its database write, which may land just after the receiver has the delivery.
    await eventually(
      () => /delivery job=\S+ attempt=1 status=200 outcome=success/.test(relay.output),
      'the delivery log line',
    );
    const forged = await client.post(`/v1/llm/callback/${jobId}?token=forged-SENTINEL-5`, { ok: true });
    expect(forged.status).toBe(401);
    await client.post('/v1/reviews', { bad: true }, { 'x-api-key': 'wrong-key-SENTINEL-6' });
    const attempts = await client.http.get(`/v1/reviews/${jobId}/attempts`).set(auth);
    expect(JSON.stringify(attempts.body)).not.toContain('SENTINEL-4');
    // Everything the relay had to say, until it stopped.
    await relay.kill();
    expect(relay.output).toMatch(/delivery job=\S+ attempt=1 status=200 outcome=success/);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const secret of [...Object.values(secrets), ...seen, 'SENTINEL']) {
      expect(relay.output).not.toContain(secret);
    }
  });
});

describe("clients' keys and secrets never reach the logs", () => {
  const dir = tempDir('relay-client-logs-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const signatures: string[] = [];
  const stack = useLoopbackStack({
    relay: false,
    llm: callingBackLlm(),
    web: (request) => {
      signatures.push(String(request.headers['x-signature']), String(request.headers['webhook-signature']));
      return { status: 200 };
    },
  });

  it('at the most verbose level, through creating a client, issuing a key, rotating a secret and delivering', async () => {
    const adminKey = 'admin-key-SENTINEL-7-0123456789';
    const encryptionKey = newEncryptionKey();
    const relay = await stack.startProcess({
      DATABASE_URL: `sqlite:///${dir}/relay.db`,
      LOG_LEVEL: 'verbose',
      RELAY_ADMIN_KEYS: adminKey,
      RELAY_ENCRYPTION_KEY: encryptionKey,
    });
    const admin = new Admin(relay.url, adminKey);
    const created = await admin.createClient('logged client');
    const issued = await admin.issueKey(created.client_id);
    const supplied = newWhsec(32);
    const rotated = await admin.rotate(created.client_id, { signing_secret: supplied, grace_period_seconds: 3600 });
    expect(rotated.signing_secret).toBe(supplied);
    const generated = await admin.rotate(created.client_id, { grace_period_seconds: 3600 });
    // A refused supplied secret is not logged either.
    const refused = newWhsec(16);
    expect((await admin.rotateAnswer(created.client_id, { signing_secret: refused })).status).toBe(400);
    const client = stack.clientFor(relay);
    const jobs = [
      await client.submit({ submission_id: 'first-key' }, bearer(created.api_key)),
      await client.submit({ submission_id: 'issued-key' }, bearer(issued.api_key)),
    ];
    for (const jobId of jobs) {
      const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery');
      expectSignedBy(delivery, [generated.signing_secret, supplied, created.signing_secret]);
    }
    await eventually(
      () => (relay.output.match(/delivery job=\S+ attempt=1 status=200 outcome=success/g) ?? []).length === 2,
      'the delivery log lines',
    );
    // A revoked key, then presented: refused, and not logged.
    expect((await admin.delete(`/v1/clients/${created.client_id}/api-keys/${issued.key_id}`)).status).toBe(204);
    expect((await client.submitAnswer({}, bearer(issued.api_key))).status).toBe(401);
    await relay.kill();

    // The requests that carried the keys and secrets were logged (by path), so their lines were scanned.
    for (const route of ['/v1/clients"', `/v1/clients/${created.client_id}/signing-secret/rotate"`, '/v1/reviews"'])
      expect(relay.output).toContain(`"url":"${route}`);
    expect(relay.output).toMatch(/delivery job=\S+ attempt=1 status=200 outcome=success/);
    expect(signatures.length).toBeGreaterThanOrEqual(4);
    const secrets = [created.signing_secret, supplied, generated.signing_secret, refused];
    const forbidden = [
      ...secrets.flatMap((secret) => secretForms(secret)),
      ...[created.api_key, issued.api_key].flatMap((key) => apiKeyForms(key)),
      ...plainForms(adminKey),
      ...plainForms(encryptionKey, true),
      ...signatures.map((signature) => ({ name: 'a signature', bytes: Buffer.from(signature) })),
    ];
    const output = Buffer.from(relay.output, 'utf8');
    expect(forbidden.filter((form) => output.includes(form.bytes)).map((form) => form.name)).toEqual([]);
    expect(relay.output).not.toContain('SENTINEL');
  });
});

describe("each LLM server's key never reaches the logs", () => {
  const dir = tempDir('relay-server-logs-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stack = useLoopbackStack({ relay: false, llm: callingBackLlm() });

  it('at the most verbose level: the key named by api_key_env is sent to its server, and logged nowhere', async () => {
    const serverKey = 'gpu-key-SENTINEL-8';
    const relay = await stack.startProcess({
      DATABASE_URL: `sqlite:///${dir}/relay.db`,
      LOG_LEVEL: 'verbose',
      LLM_API_URL: '',
      LLM_SERVERS: JSON.stringify([{ name: 'gpu', url: stack.llm.url, api_key_env: 'GPU_KEY' }]),
      GPU_KEY: serverKey,
    });
    const jobId = await stack.clientFor(relay).submit();
    await eventually(() => stack.web.for(jobId).length === 1, 'the delivery');
    expect(stack.llm.for(jobId)[0].headers.authorization).toBe(`Bearer ${serverKey}`);
    await eventually(
      () => /forward job=\S+ attempt=1 status=202 outcome=success ms=\d+ server=gpu/.test(relay.output),
      'the log line',
    );
    await relay.kill();
    expect(relay.output).toContain('LLM: gpu');
    expect(relay.output).not.toContain('SENTINEL');
  });
});
