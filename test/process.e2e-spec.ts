import * as fs from 'node:fs';
import { eventually, FakeServer, postJson } from './support/fake-server';
import { tempDir } from './support/relay';
import { RelayProcess, runUntilExit } from './support/relay-process';

describe('the relay process', () => {
  const dir = tempDir('relay-process-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stops at start on a bad variable, naming it', async () => {
    const { code, output } = await runUntilExit({ CALLBACK_MAX_RETRIES: 'lots', PORT: '99999' });
    expect(code).not.toBe(0);
    expect(output).toContain('CALLBACK_MAX_RETRIES must be a whole number');
    expect(output).toContain('PORT must be');
  });

  it('refuses insecure defaults in production', async () => {
    const { code, output } = await runUntilExit({ NODE_ENV: 'production', DATABASE_URL: `sqlite:///${dir}/prod.db` });
    expect(code).not.toBe(0);
    expect(output).toMatch(/CALLBACK_HMAC_SECRET/);
    expect(output).toMatch(/RELAY_API_KEYS/);
    expect(output).toMatch(/LLM_API_URL/);
    expect(fs.existsSync(`${dir}/prod.db`)).toBe(false);
  });

  it('creates the SQLite file from a relative DATABASE_URL and exits 0 on SIGTERM after finishing in-flight work', async () => {
    const web = await FakeServer.start(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { status: 200 };
    });
    const relay = await RelayProcess.start({ DATABASE_URL: 'sqlite:///nested/relay.db' }, dir);
    try {
    expect(fs.existsSync(`${dir}/nested/relay.db`)).toBe(true);
    const { json } = await postJson(`${relay.url}/v1/reviews`, {
      submission_id: 'sigterm',
      file_refs: [{ url: 'https://files.example.com/x.pdf' }],
      webhook_url: `${web.url}/hook`,
    });
    await eventually(() => web.for(json.job_id).length > 0, 'the delivery to start');
    relay.signal('SIGTERM');
    expect(await relay.exited()).toBe(0);
    expect(relay.output).not.toMatch(/releasing \d+ unfinished/);
    expect(relay.output).toMatch(/delivery job=\S+ attempt=1 status=200 outcome=success ms=/);
    } finally {
      await relay.kill();
      await web.close();
    }
  });
});
