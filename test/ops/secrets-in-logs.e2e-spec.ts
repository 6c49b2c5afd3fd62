import * as fs from 'node:fs';
import { eventually, FakeServer, postJson } from '../support/fake-server';
import { reviewBody, tempDir } from '../support/relay';
import { RelayProcess } from '../support/relay-process';

describe('secrets never reach the logs', () => {
  it('at the most verbose level, through a full cycle, forged callbacks and failures', async () => {
    const dir = tempDir('relay-logs-');
    const secrets = {
      apiKey: 'relay-api-key-SENTINEL-1',
      llmKey: 'llm-api-key-SENTINEL-2',
      hmac: 'hmac-secret-SENTINEL-3-0123456789abcdef',
    };
    const seen: string[] = [];
    const web = await FakeServer.start((request) => {
      seen.push(String(request.headers['x-signature']), String(request.headers['webhook-signature']));
      return { status: 200 };
    });
    const llm = await FakeServer.start((request, index) => {
      seen.push(request.json.callback_token);
      if (index === 0) return { status: 503 };
      setTimeout(() => void postJson(request.json.callback_url, { ok: true, result: 'r' }).catch(() => undefined), 5);
      return { status: 202 };
    });
    const relay = await RelayProcess.start({
      DATABASE_URL: `sqlite:///${dir}/relay.db`,
      LOG_LEVEL: 'verbose',
      RELAY_API_KEYS: secrets.apiKey,
      LLM_API_KEY: secrets.llmKey,
      CALLBACK_HMAC_SECRET: secrets.hmac,
      LLM_API_URL: llm.url,
    });
    try {
      const auth = { authorization: `Bearer ${secrets.apiKey}` };
      const { json } = await postJson(`${relay.url}/v1/reviews`, reviewBody(`${web.url}/hook?receiver_secret=SENTINEL-4`), auth);
      await eventually(() => web.for(json.job_id).length === 1, 'the delivery');
      // The attempt's log line follows its database write, which may land just after the receiver has the delivery.
      await eventually(() => /delivery job=\S+ attempt=1 status=200 outcome=success/.test(relay.output), 'the delivery log line');
      const forged = await postJson(`${relay.url}/v1/llm/callback/${json.job_id}?token=forged-SENTINEL-5`, { ok: true });
      expect(forged.status).toBe(401);
      await postJson(`${relay.url}/v1/reviews`, { bad: true }, { 'x-api-key': 'wrong-key-SENTINEL-6' });
      const attempts = await (await fetch(`${relay.url}/v1/reviews/${json.job_id}/attempts`, { headers: auth })).json();
      expect(JSON.stringify(attempts)).not.toContain('SENTINEL-4');
    } finally {
      await relay.kill();
      await llm.close();
      await web.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(relay.output).toMatch(/delivery job=\S+ attempt=1 status=200 outcome=success/);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const secret of [...Object.values(secrets), ...seen, 'SENTINEL']) {
      expect(relay.output).not.toContain(secret);
    }
  });
});
