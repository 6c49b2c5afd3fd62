import { eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { type Answer, RelayClient } from '../support/relay-client';
import { Admin, bearer, type CreatedClient, newEncryptionKey } from '../support/signing';

const ADMIN_KEY = 'admin-key-tenancy-0123456789';
const DEFAULT_KEY = 'default-key-tenancy-0123456789';
const UNKNOWN_JOB = `job_${'0'.repeat(32)}`;

function expectCode(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.code }).toEqual({ status, code });
}

/** The answer with the job id taken out: what may differ between two 404s. */
function withoutId(answer: Answer, jobId: string): { status: number; body: string } {
  return { status: answer.status, body: answer.text.split(jobId).join('<job id>') };
}

describe('several clients on one relay: each reaches its own jobs only; admin keys reach all', () => {
  const stack = useLoopbackStack({
    env: {
      RELAY_ADMIN_KEYS: ADMIN_KEY,
      RELAY_API_KEYS: DEFAULT_KEY,
      RELAY_ENCRYPTION_KEY: newEncryptionKey(),
    },
  });
  let admin: Admin;
  /** The relay's API with the admin key as X-API-Key (reads and acts, never submits). */
  let operator: RelayClient;
  let a: CreatedClient;
  let b: CreatedClient;
  /** The relay's API with `apiKey` as X-API-Key. */
  const as = (apiKey: string) => new RelayClient(stack.relay.url, { webhookUrl: stack.hook, apiKey });

  beforeAll(async () => {
    admin = new Admin(stack.relay.url, ADMIN_KEY);
    operator = new RelayClient(stack.relay.url, { apiKey: ADMIN_KEY });
    a = await admin.createClient('LMS');
    b = await admin.createClient('Exams');
  });

  /** Submits with `apiKey` and waits until the LLM holds the job (the fake LLM accepts, the test calls back). */
  async function processing(apiKey: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const jobId = await as(apiKey).submit(overrides);
    await as(apiKey).waitForStatus(jobId, 'processing');
    return jobId;
  }

  /** Feeds a result as the LLM (through the admin key) and waits for the delivery. */
  async function delivered(jobId: string): Promise<void> {
    expect((await operator.post(`/simulate-llm/${jobId}`, {})).status).toBe(200);
    await operator.waitForStatus(jobId, 'delivered');
  }

  /** Every item of the changes feed the key sees (following next_cursor), with `query` added. */
  async function feed(apiKey: string, query = ''): Promise<any[]> {
    const items: any[] = [];
    let after = '';
    for (let page = 0; page < 50; page += 1) {
      const answer = await as(apiKey).get(`/v1/reviews/changes?limit=1000${query}${after ? `&after=${after}` : ''}`);
      expect(answer.status).toBe(200);
      items.push(...answer.body.items);
      if (answer.body.items.length === 0) return items;
      after = answer.body.next_cursor;
    }
    throw new Error('the feed did not end');
  }

  /** Every job the key lists (100 a page, following next_cursor), with `query` added. */
  async function listed(apiKey: string, query = ''): Promise<any[]> {
    const items: any[] = [];
    let cursor = '';
    for (let page = 0; page < 50; page += 1) {
      const answer = await as(apiKey).get(`/v1/reviews?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(answer.status).toBe(200);
      items.push(...answer.body.items);
      if (answer.body.next_cursor === null) return items;
      cursor = answer.body.next_cursor;
    }
    throw new Error('the list did not end');
  }

  async function summaryCounts(apiKey: string, query = ''): Promise<{ jobs: number; delivered: number; body: any }> {
    const answer = await as(apiKey).get(`/v1/reviews/summary${query}`);
    expect(answer.status).toBe(200);
    const jobs = Object.values(answer.body.counts as Record<string, number>).reduce((sum, n) => sum + n, 0);
    const deliveredNow = (answer.body.deliveries_per_minute as any[]).reduce(
      (sum, minute) => sum + minute.delivered,
      0,
    );
    return { jobs, delivered: deliveredNow, body: answer.body };
  }

  it('gives every job its client_id: in the job, the list, the feed and the attempts', async () => {
    const jobs = {
      [a.client_id]: await processing(a.api_key, { submission_id: 'tagged-a' }),
      [b.client_id]: await processing(b.api_key, { submission_id: 'tagged-b' }),
      default: await processing(DEFAULT_KEY, { submission_id: 'tagged-default' }),
    };
    const keys = { [a.client_id]: a.api_key, [b.client_id]: b.api_key, default: DEFAULT_KEY };
    for (const [clientId, jobId] of Object.entries(jobs)) {
      for (const reader of [keys[clientId], ADMIN_KEY]) {
        expect((await as(reader).job(jobId)).client_id).toBe(clientId);
        const attempts = await as(reader).get(`/v1/reviews/${jobId}/attempts`);
        expect(attempts.body).toMatchObject({ job_id: jobId, client_id: clientId });
        expect(attempts.body.items.map((item: any) => item.leg)).toContain('forward');
        const item = (await listed(reader)).find((job) => job.job_id === jobId);
        expect(item?.client_id).toBe(clientId);
        const change = (await feed(reader)).find((job) => job.job_id === jobId);
        expect(change?.client_id).toBe(clientId);
      }
    }
    // The delivery tells the receiver whose job it is too.
    await delivered(jobs[a.client_id]);
    const delivery = await eventually(() => stack.web.for(jobs[a.client_id])[0], 'the delivery');
    expect(delivery.json).toMatchObject({ job_id: jobs[a.client_id] });
    expect((await as(a.api_key).attempts(jobs[a.client_id], 'delivery'))[0]).toMatchObject({ outcome: 'success' });
  });

  it("answers another client's job exactly as an unknown one (404), on every route, and leaves it as it was", async () => {
    const waiting = await processing(a.api_key, { submission_id: 'a-waiting' });
    const finished = await processing(a.api_key, { submission_id: 'a-finished' });
    await delivered(finished);
    const ofDefault = await processing(DEFAULT_KEY, { submission_id: 'default-waiting' });
    const routes: Array<[method: 'get' | 'post', path: (id: string) => string, body?: unknown]> = [
      ['get', (id) => `/v1/reviews/${id}`],
      ['get', (id) => `/v1/reviews/${id}/attempts`],
      ['post', (id) => `/v1/reviews/${id}/cancel`],
      ['post', (id) => `/v1/reviews/${id}/redeliver`],
      ['post', (id) => `/simulate-llm/${id}`, {}],
      ['post', (id) => `/simulate-llm/${id}`, { ok: false, error: { code: 'x', message: 'y' } }],
    ];
    const cases: Array<[reader: string, jobId: string]> = [
      [b.api_key, waiting],
      [b.api_key, finished],
      [DEFAULT_KEY, waiting],
      [DEFAULT_KEY, finished],
      [a.api_key, ofDefault],
      [b.api_key, ofDefault],
    ];
    for (const [reader, jobId] of cases) {
      for (const [method, path, body] of routes) {
        const unknown = await as(reader).call(method, path(UNKNOWN_JOB), body);
        expectCode(unknown, 404, 'job_not_found');
        const foreign = await new RelayClient(stack.relay.url).call(method, path(jobId), body, bearer(reader).headers);
        expect({ route: path('{id}'), ...withoutId(foreign, jobId) }).toEqual({
          route: path('{id}'),
          ...withoutId(unknown, UNKNOWN_JOB),
        });
      }
    }
    // Nothing of theirs was touched: still waiting, still delivered once, no attempt added.
    expect((await as(a.api_key).job(waiting)).status).toBe('processing');
    expect((await as(DEFAULT_KEY).job(ofDefault)).status).toBe('processing');
    expect((await as(a.api_key).job(finished)).delivery.rounds).toBe(1);
    expect(await as(a.api_key).attempts(waiting)).toHaveLength(1);
    expect(await as(a.api_key).attempts(finished)).toHaveLength(2);
    expect(stack.web.for(waiting)).toHaveLength(0);
    expect(stack.web.for(finished)).toHaveLength(1);

    // The owner reaches each of them on every route.
    expect((await as(a.api_key).post(`/v1/reviews/${finished}/redeliver`)).status).toBe(202);
    await eventually(() => stack.web.for(finished)[1], 'the redelivery by its owner');
    expect((await as(a.api_key).post(`/simulate-llm/${waiting}`, {})).status).toBe(200);
    await as(a.api_key).waitForStatus(waiting, 'delivered');
    expect((await as(DEFAULT_KEY).post(`/v1/reviews/${ofDefault}/cancel`)).body).toEqual({
      job_id: ofDefault,
      status: 'cancelled',
    });
  });

  it("lists, feeds and sums up the caller's own jobs only; an admin key sees every client's, or one client's", async () => {
    const c = await admin.createClient('counted c');
    const e = await admin.createClient('counted e');
    const ofC = [await processing(c.api_key), await processing(c.api_key), await processing(c.api_key)];
    const ofE = [await processing(e.api_key), await processing(e.api_key)];
    const ofDefault = await processing(DEFAULT_KEY);
    await delivered(ofC[0]);

    const ids = (jobs: any[]) => jobs.map((job) => job.job_id).sort();
    for (const [client, own] of [
      [c, ofC],
      [e, ofE],
    ] as const) {
      const list = await listed(client.api_key);
      expect(ids(list)).toEqual([...own].sort());
      expect(new Set(list.map((job) => job.client_id))).toEqual(new Set([client.client_id]));
      expect(await as(client.api_key).total()).toBe(own.length);
      expect(await as(client.api_key).total({ status: 'processing' })).toBe(2);
      const changes = await feed(client.api_key);
      expect(ids(changes)).toEqual([...own].sort());
      expect(new Set(changes.map((job) => job.client_id))).toEqual(new Set([client.client_id]));
      const summary = await summaryCounts(client.api_key);
      expect(summary.jobs).toBe(own.length);
      expect(summary.body.counts).toMatchObject({ delivered: client === c ? 1 : 0, processing: 2 });
      expect(summary.delivered).toBe(client === c ? 1 : 0);
      // Naming itself changes nothing.
      expect(ids(await listed(client.api_key, `&client_id=${client.client_id}`))).toEqual([...own].sort());
      expect(ids(await feed(client.api_key, `&client_id=${client.client_id}`))).toEqual([...own].sort());
      expect((await summaryCounts(client.api_key, `?client_id=${client.client_id}`)).body.counts).toEqual(
        summary.body.counts,
      );
    }
    // The default client's key sees none of theirs.
    const defaults = await listed(DEFAULT_KEY);
    expect(defaults.map((job) => job.job_id)).toContain(ofDefault);
    expect(defaults.every((job) => job.client_id === 'default')).toBe(true);
    expect((await feed(DEFAULT_KEY)).every((job) => job.client_id === 'default')).toBe(true);
    expect((await summaryCounts(DEFAULT_KEY)).jobs).toBe(defaults.length);

    // An admin key: every client's, or one client's with client_id.
    const everything = await listed(ADMIN_KEY);
    for (const jobId of [...ofC, ...ofE, ofDefault]) expect(everything.map((job) => job.job_id)).toContain(jobId);
    expect(new Set(everything.map((job) => job.client_id))).toEqual(
      new Set([a.client_id, b.client_id, c.client_id, e.client_id, 'default']),
    );
    expect((await summaryCounts(ADMIN_KEY)).jobs).toBe(everything.length);
    expect(await operator.total()).toBe(everything.length);
    expect(ids(await feed(ADMIN_KEY))).toEqual(ids(everything));
    expect(ids(await listed(ADMIN_KEY, `&client_id=${c.client_id}`))).toEqual([...ofC].sort());
    expect(ids(await feed(ADMIN_KEY, `&client_id=${e.client_id}`))).toEqual([...ofE].sort());
    expect(ids(await listed(ADMIN_KEY, '&client_id=default'))).toEqual(ids(defaults));
    const ofCSummary = await summaryCounts(ADMIN_KEY, `?client_id=${c.client_id}`);
    expect([ofCSummary.jobs, ofCSummary.delivered]).toEqual([3, 1]);
    expect((await summaryCounts(ADMIN_KEY, `?client_id=${e.client_id}`)).delivered).toBe(0);
    // A client that does not exist has no jobs.
    expect(await operator.total({ client_id: `cli_${'f'.repeat(24)}` })).toBe(0);
  });

  it('refuses a client naming another client_id (403 admin_key_required), whichever it names', async () => {
    const routes = (clientId: string) => [
      `/v1/reviews?client_id=${clientId}`,
      `/v1/reviews/changes?client_id=${clientId}`,
      `/v1/reviews/summary?client_id=${clientId}`,
    ];
    const refusals: Array<[reader: string, named: string]> = [
      [a.api_key, b.client_id],
      [a.api_key, 'default'],
      [a.api_key, `cli_${'0'.repeat(24)}`],
      [DEFAULT_KEY, a.client_id],
    ];
    for (const [reader, named] of refusals) {
      for (const path of routes(named)) {
        const answer = await as(reader).get(path);
        expect({ path, status: answer.status, code: answer.body?.code }).toEqual({
          path,
          status: 403,
          code: 'admin_key_required',
        });
      }
    }
    // The same refusal whichever client is named, existing or not.
    const [existing, missing] = [
      await as(a.api_key).get(`/v1/reviews?client_id=${b.client_id}`),
      await as(a.api_key).get(`/v1/reviews?client_id=cli_${'0'.repeat(24)}`),
    ];
    expect(existing.body).toEqual(missing.body);
    for (const path of routes('default')) expect((await as(DEFAULT_KEY).get(path)).status).toBe(200);
    for (const path of routes(b.client_id)) expect((await as(ADMIN_KEY).get(path)).status).toBe(200);
  });

  it('refuses a malformed client_id with 400 validation_failed on the list, the feed and the summary', async () => {
    for (const reader of [a.api_key, DEFAULT_KEY, ADMIN_KEY]) {
      for (const clientId of ['cli_nothex', 'DEFAULT', `cli_${'0'.repeat(25)}`]) {
        for (const path of ['/v1/reviews', '/v1/reviews/changes', '/v1/reviews/summary']) {
          const answer = await as(reader).get(`${path}?client_id=${clientId}`);
          expect({ path, clientId, status: answer.status, code: answer.body?.code }).toEqual({
            path,
            clientId,
            status: 400,
            code: 'validation_failed',
          });
          expect(answer.body.message).toMatch(/client_id/);
        }
      }
    }
  });

  it('keeps Idempotency-Key per client: one key from two clients makes two jobs, twice from one client one', async () => {
    const key = 'order-2026-0042';
    const body = { submission_id: 'idem-shared' };
    const fromA = await as(a.api_key).submit(body, { idempotencyKey: key });
    const againFromA = await as(a.api_key).submitAnswer(body, { idempotencyKey: key });
    expect(againFromA.status).toBe(202);
    expect(againFromA.body.job_id).toBe(fromA);
    const fromB = await as(b.api_key).submit(body, { idempotencyKey: key });
    const fromDefault = await stack.client.submit(body, {
      idempotencyKey: key,
      headers: bearer(DEFAULT_KEY).headers,
    });
    expect(new Set([fromA, fromB, fromDefault]).size).toBe(3);
    expect((await as(b.api_key).job(fromB)).client_id).toBe(b.client_id);
    expect((await as(DEFAULT_KEY).job(fromDefault)).client_id).toBe('default');
    // Another body under the same key: a conflict for that client only.
    expectCode(
      await as(a.api_key).submitAnswer({ submission_id: 'idem-other' }, { idempotencyKey: key }),
      409,
      'idempotency_key_reused',
    );
    const fromNewClient = await admin.createClient('idempotent too');
    const other = await as(fromNewClient.api_key).submitAnswer(
      { submission_id: 'idem-other' },
      { idempotencyKey: key },
    );
    expect(other.status).toBe(202);
    expect(await as(a.api_key).total({ submission_id: 'idem-shared' })).toBe(1);
    expect(await as(b.api_key).total({ submission_id: 'idem-shared' })).toBe(1);
    expect(await operator.total({ submission_id: 'idem-shared' })).toBe(3);
  });

  it("lets an admin key read and act on any client's job: read, attempts, simulate, redeliver, cancel", async () => {
    const ofA = await processing(a.api_key, { submission_id: 'admin-acts-a' });
    const ofB = await processing(b.api_key, { submission_id: 'admin-acts-b' });
    expect((await operator.job(ofA)).client_id).toBe(a.client_id);
    expect((await operator.get(`/v1/reviews/${ofB}/attempts`)).body.client_id).toBe(b.client_id);
    await delivered(ofA);
    expect((await operator.post(`/v1/reviews/${ofA}/redeliver`)).status).toBe(202);
    await eventually(() => stack.web.for(ofA)[1], 'the redelivery by the admin key');
    expect((await admin.post(`/v1/reviews/${ofB}/cancel`)).status).toBe(202);
    expect((await as(b.api_key).job(ofB)).status).toBe('cancelled');
    expectCode(await operator.post(`/v1/reviews/${UNKNOWN_JOB}/cancel`), 404, 'job_not_found');
    expectCode(await operator.post(`/simulate-llm/${UNKNOWN_JOB}`, {}), 404, 'job_not_found');
  });

  describe('webhook_url_prefixes', () => {
    let bound: CreatedClient;
    let port: number;
    beforeAll(async () => {
      port = Number(new URL(stack.web.url).port);
      const answer = await admin.post('/v1/clients', {
        name: 'bound',
        webhook_url_prefixes: ['https://lms.example.edu/hooks/', `${stack.web.url}/hooks/`],
      });
      expect(answer.status).toBe(201);
      bound = answer.body;
    });

    it('refuses a webhook_url outside them (422 webhook_url_not_allowed) and stores nothing', async () => {
      const before = await operator.total();
      const outside = [
        'https://lms.example.edu.evil.test/hooks/x',
        'https://lms.example.edu/hooks-evil',
        'https://lms.example.edu/hooks',
        'https://lms.example.edu/',
        'https://localhost/hooks/',
        'http://lms.example.edu/hooks/x',
        'https://lms.example.edu:8443/hooks/x',
        'https://lms.example.edu/hooks/../admin',
        'https://lms.example.edu/hooks/%2e%2e/admin',
        'https://evil.test/https://lms.example.edu/hooks/',
        'https://evil.test/?u=https://lms.example.edu/hooks/',
        `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}/hooks/x`,
        `http://localhost:${port}/hooks/x`,
        `https://127.0.0.1:${port}/hooks/x`,
        stack.hook,
      ];
      for (const webhookUrl of outside) {
        for (const options of [{}, { idempotencyKey: `outside-${outside.indexOf(webhookUrl)}` }]) {
          const answer = await as(bound.api_key).submitAnswer({ webhook_url: webhookUrl }, options);
          expect({ webhookUrl, status: answer.status, code: answer.body?.code }).toEqual({
            webhookUrl,
            status: 422,
            code: 'webhook_url_not_allowed',
          });
          expect(answer.body.message).toMatch(/webhook_url_prefixes/);
        }
      }
      expect(await as(bound.api_key).total()).toBe(0);
      expect(await operator.total({ client_id: bound.client_id })).toBe(0);
      expect(await operator.total()).toBe(before);
      expect(await feed(bound.api_key)).toEqual([]);
      expect((await summaryCounts(bound.api_key)).jobs).toBe(0);
      // A refused Idempotency-Key was not taken: it works with an allowed URL.
      const allowed = await as(bound.api_key).submit(
        { webhook_url: `${stack.web.url}/hooks/after` },
        {
          idempotencyKey: 'outside-0',
        },
      );
      expect((await as(bound.api_key).job(allowed)).webhook_url).toBe(`${stack.web.url}/hooks/after`);
      expect((await operator.post(`/v1/reviews/${allowed}/cancel`)).status).toBe(202);
    });

    it('takes one inside them (parsed: case of the host, default port) and delivers it there', async () => {
      const elsewhere: string[] = [];
      for (const webhookUrl of ['https://lms.example.edu/hooks/x', 'https://LMS.example.EDU:443/hooks/a/b']) {
        const answer = await as(bound.api_key).submitAnswer({ webhook_url: webhookUrl });
        expect({ webhookUrl, status: answer.status }).toEqual({ webhookUrl, status: 202 });
        elsewhere.push(answer.body.job_id);
      }
      // Those hosts are not this test's: cancelled before any delivery.
      for (const jobId of elsewhere) expect((await operator.post(`/v1/reviews/${jobId}/cancel`)).status).toBe(202);

      const jobId = await processing(bound.api_key, { webhook_url: `${stack.web.url}/hooks/course/7?attempt=1` });
      await delivered(jobId);
      const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery under the prefix');
      expect(delivery.path).toBe('/hooks/course/7?attempt=1');
      expect((await as(bound.api_key).job(jobId)).client_id).toBe(bound.client_id);
    });

    it("binds only that client, and a PATCH moves or lifts them (the default client's too)", async () => {
      const elsewhere = 'https://lms.example.edu.evil.test/hooks/x';
      // Another client, without prefixes, may use a URL outside this client's.
      const free = await as(a.api_key).submitAnswer({ webhook_url: elsewhere });
      expect(free.status).toBe(202);
      expect((await operator.post(`/v1/reviews/${free.body.job_id}/cancel`)).status).toBe(202);

      const moved = await admin.patch(`/v1/clients/${bound.client_id}`, {
        webhook_url_prefixes: [`${stack.web.url}/other`],
      });
      expect(moved.body.webhook_url_prefixes).toEqual([`${stack.web.url}/other`]);
      expectCode(
        await as(bound.api_key).submitAnswer({ webhook_url: `${stack.web.url}/hooks/x` }),
        422,
        'webhook_url_not_allowed',
      );
      // Without a trailing slash the prefix covers the path itself and below it, not a longer name.
      expect((await as(bound.api_key).submitAnswer({ webhook_url: `${stack.web.url}/other` })).status).toBe(202);
      expect((await as(bound.api_key).submitAnswer({ webhook_url: `${stack.web.url}/other/x` })).status).toBe(202);
      expectCode(
        await as(bound.api_key).submitAnswer({ webhook_url: `${stack.web.url}/otherwise` }),
        422,
        'webhook_url_not_allowed',
      );
      const lifted = await admin.patch(`/v1/clients/${bound.client_id}`, { webhook_url_prefixes: [] });
      expect(lifted.body.webhook_url_prefixes).toEqual([]);
      const now = await as(bound.api_key).submitAnswer({ webhook_url: elsewhere });
      expect(now.status).toBe(202);
      expect((await operator.post(`/v1/reviews/${now.body.job_id}/cancel`)).status).toBe(202);

      try {
        await admin.patch('/v1/clients/default', { webhook_url_prefixes: [`${stack.web.url}/hooks/`] });
        expectCode(
          await stack.client.submitAnswer({ webhook_url: stack.hook }, { apiKey: DEFAULT_KEY }),
          422,
          'webhook_url_not_allowed',
        );
        expect(
          (await stack.client.submitAnswer({ webhook_url: `${stack.web.url}/hooks/d` }, { apiKey: DEFAULT_KEY }))
            .status,
        ).toBe(202);
      } finally {
        await admin.patch('/v1/clients/default', { webhook_url_prefixes: [] });
      }
      expect((await stack.client.submitAnswer({}, { apiKey: DEFAULT_KEY })).status).toBe(202);
    });
  });
});
