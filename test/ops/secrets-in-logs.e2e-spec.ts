import * as fs from 'node:fs';
import { eventually, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';

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
