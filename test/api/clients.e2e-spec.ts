import { eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';
import { type Answer, RelayClient } from '../support/relay-client';
import { Admin, bearer, type CreatedClient, newEncryptionKey } from '../support/signing';
import * as fs from 'node:fs';

const ADMIN_KEY = 'admin-key-clients-api-0123456789';
const DEFAULT_KEY = 'default-key-clients-api-0123456789';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNKNOWN_CLIENT = `cli_${'0'.repeat(24)}`;

/** The fields of a client as the management API shows it (never a key or a secret). */
const CLIENT_FIELDS = [
  'api_keys',
  'client_id',
  'created_at',
  'disabled',
  'intake_rate_limit',
  'managed_by_environment',
  'max_backlog',
  'max_in_flight',
  'name',
  'signing_secrets',
  'updated_at',
  'webhook_url_prefixes',
  'weight',
];

function expectCode(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.code }).toEqual({ status, code });
}

/** Every client the relay lists, page by page (100 a page). */
async function allClients(admin: Admin): Promise<any[]> {
  const clients: any[] = [];
  let cursor: string | null = null;
  do {
    const answer = await admin.get(`/v1/clients?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(answer.status).toBe(200);
    clients.push(...answer.body.items);
    cursor = answer.body.next_cursor;
  } while (cursor);
  return clients;
}

describe('the management API: /v1/clients (admin keys)', () => {
  const stack = useLoopbackStack({
    env: {
      RELAY_ADMIN_KEYS: `${ADMIN_KEY},second-admin-key-0123456789`,
      RELAY_API_KEYS: DEFAULT_KEY,
      RELAY_ENCRYPTION_KEY: newEncryptionKey(),
    },
  });
  let admin: Admin;
  /** The relay's API with `apiKey` as X-API-Key. */
  const keyed = (apiKey: string) => new RelayClient(stack.relay.url, { webhookUrl: stack.hook, apiKey });
  beforeAll(() => {
    admin = new Admin(stack.relay.url, ADMIN_KEY);
  });

  it('creates a client (201): its key and secret are in that answer only, never in a read, a list or a patch', async () => {
    const before = Date.now();
    const answer = await admin.post('/v1/clients', {
      name: 'Course platform',
      webhook_url_prefixes: ['https://LMS.Example.edu:443/hooks/', 'http://127.0.0.1:8080/a'],
    });
    expect(answer.status).toBe(201);
    const created = answer.body as CreatedClient;
    expect(Object.keys(created).sort()).toEqual([...CLIENT_FIELDS, 'api_key', 'signing_secret'].sort());
    expect(created).toEqual({
      client_id: expect.stringMatching(/^cli_[0-9a-f]{24}$/),
      name: 'Course platform',
      // Stored as parsed: lower-case host, default port dropped.
      webhook_url_prefixes: ['https://lms.example.edu/hooks/', 'http://127.0.0.1:8080/a'],
      disabled: false,
      // The fair-share settings, at their defaults: weight 1, no limits of its own.
      weight: 1,
      max_in_flight: 0,
      max_backlog: 0,
      intake_rate_limit: 0,
      managed_by_environment: false,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      api_keys: [
        { key_id: expect.stringMatching(/^key_[0-9a-f]{20}$/), created_at: expect.any(String), last_used_at: null },
      ],
      signing_secrets: [{ created_at: expect.any(String), expires_at: null }],
      api_key: expect.stringMatching(/^rk_[A-Za-z0-9_-]{43}$/),
      signing_secret: expect.stringMatching(/^whsec_/),
    });
    expect(Date.parse(created.created_at as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(created.created_at as string)).toBeLessThanOrEqual(Date.now() + 1000);

    const { api_key: apiKey, signing_secret: secret, ...shown } = created;
    const read = await admin.get(`/v1/clients/${created.client_id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(shown);
    const patched = await admin.patch(`/v1/clients/${created.client_id}`, { name: 'Course platform 2' });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...shown, name: 'Course platform 2', updated_at: expect.stringMatching(ISO) });
    const listed = await admin.get('/v1/clients?limit=100');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((client: any) => client.client_id)).toContain(created.client_id);
    for (const text of [read.text, patched.text, listed.text]) {
      expect(text).not.toContain(apiKey);
      expect(text).not.toContain(apiKey.slice(3));
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(6));
    }
    for (const item of listed.body.items) expect(Object.keys(item).sort()).toEqual(CLIENT_FIELDS);
    // The key it gave works (X-API-Key) and submits a job of this client.
    const jobId = await keyed(apiKey).submit({ webhook_url: 'http://127.0.0.1:8080/a/hook' });
    expect((await keyed(apiKey).job(jobId)).client_id).toBe(created.client_id);
  });

  it('lists clients oldest first, default first, in pages that follow next_cursor to the end', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i += 1) made.push((await admin.createClient(`paged ${i}`)).client_id);
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await admin.get(`/v1/clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body).sort()).toEqual(['items', 'limit', 'next_cursor']);
      expect(answer.body.limit).toBe(2);
      expect(answer.body.items.length).toBeLessThanOrEqual(2);
      expect(answer.body.items.length).toBeGreaterThan(0);
      seen.push(...answer.body.items);
      cursor = answer.body.next_cursor;
      if (cursor !== null) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      pages += 1;
    } while (cursor && pages < 50);
    expect(cursor).toBeNull();
    const ids = seen.map((client) => client.client_id);
    expect(ids[0]).toBe('default');
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of made) expect(ids).toContain(id);
    // Oldest first: (created_at, client_id) ascending.
    const order = seen.map(
      (client) => `${client.created_at} ${client.client_id === 'default' ? '' : client.client_id}`,
    );
    expect(order).toEqual([...order].sort());
    // The same clients as one large page.
    expect((await allClients(admin)).map((client) => client.client_id)).toEqual(ids);
    // Default page size 20.
    expect((await admin.get('/v1/clients')).body.limit).toBe(20);
  });

  it('refuses bad paging (400): limits out of range or not numbers, cursors it did not give out', async () => {
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=1.5',
      'cursor=not*a*cursor',
      `cursor=${'a'.repeat(201)}`,
    ]) {
      const answer = await admin.get(`/v1/clients?${query}`);
      expect({ query, status: answer.status, code: answer.body?.code }).toEqual({
        query,
        status: 400,
        code: 'validation_failed',
      });
      expect(answer.body.message).toMatch(query.startsWith('limit') ? /limit/ : /cursor/);
    }
    for (const cursor of ['Zm9v', Buffer.from(`1:cli_${'z'.repeat(24)}`).toString('base64url')]) {
      expectCode(await admin.get(`/v1/clients?cursor=${cursor}`), 400, 'invalid_cursor');
    }
    expectCode(await admin.get('/v1/clients?status=active'), 400, 'validation_failed');
  });

  it('reads and patches a client: name, prefixes, disabled; an empty patch changes nothing', async () => {
    const client = await admin.createClient('to patch');
    const path = `/v1/clients/${client.client_id}`;
    const renamed = await admin.patch(path, { name: 'Exam system' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Exam system');
    expect(Date.parse(renamed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(client.created_at as string));
    const limited = await admin.patch(path, { webhook_url_prefixes: ['https://exams.example.org/in'] });
    expect(limited.body.webhook_url_prefixes).toEqual(['https://exams.example.org/in']);
    expect(limited.body.name).toBe('Exam system');
    const disabled = await admin.patch(path, { disabled: true });
    expect(disabled.body).toMatchObject({ disabled: true, name: 'Exam system' });
    const untouched = await admin.patch(path, {});
    expect(untouched.status).toBe(200);
    expect(untouched.body).toMatchObject({
      client_id: client.client_id,
      name: 'Exam system',
      disabled: true,
      webhook_url_prefixes: ['https://exams.example.org/in'],
    });
    const lifted = await admin.patch(path, { webhook_url_prefixes: [], disabled: false, name: 'x'.repeat(200) });
    expect(lifted.body).toMatchObject({ webhook_url_prefixes: [], disabled: false, name: 'x'.repeat(200) });
    expect((await admin.get(path)).body).toEqual(lifted.body);
  });

  it('answers 404 client_not_found for an unknown or impossible client id, on every route', async () => {
    for (const id of [UNKNOWN_CLIENT, 'nope', 'cli_XYZ', encodeURIComponent('../default')]) {
      const answers = [
        await admin.get(`/v1/clients/${id}`),
        await admin.patch(`/v1/clients/${id}`, { name: 'x' }),
        await admin.post(`/v1/clients/${id}/api-keys`),
        await admin.delete(`/v1/clients/${id}/api-keys/key_${'0'.repeat(20)}`),
      ];
      for (const answer of answers) expectCode(answer, 404, 'client_not_found');
    }
    // A bad body on an unknown client: either answer is a refusal, and nothing is created.
    expect((await admin.patch(`/v1/clients/${UNKNOWN_CLIENT}`, { name: 42 })).status).toBeGreaterThanOrEqual(400);
    expect((await allClients(admin)).map((client) => client.client_id)).not.toContain(UNKNOWN_CLIENT);
  });

  it('refuses hostile bodies with 400 validation_failed naming the problem, and stores nothing', async () => {
    const countBefore = (await allClients(admin)).length;
    const tooMany = Array.from({ length: 21 }, (_, i) => `https://lms.example.edu/h${i}/`);
    const refused: Array<{ body: unknown; names: RegExp }> = [
      { body: {}, names: /name/ },
      { body: { name: 42 }, names: /name/ },
      { body: { name: '' }, names: /name/ },
      { body: { name: null }, names: /name/ },
      { body: { name: ['a'] }, names: /name/ },
      { body: { name: 'x'.repeat(201) }, names: /name/ },
      { body: { name: 'ok', api_key: 'rk_mine' }, names: /api_key is not an accepted field/ },
      { body: { name: 'ok', client_id: 'cli_0123' }, names: /client_id is not an accepted field/ },
      { body: { name: 'ok', disabled: true }, names: /disabled is not an accepted field/ },
      { body: { name: 'ok', webhook_url_prefixes: 'https://lms.example.edu/' }, names: /webhook_url_prefixes/ },
      { body: { name: 'ok', webhook_url_prefixes: [42] }, names: /webhook_url_prefixes/ },
      { body: { name: 'ok', webhook_url_prefixes: ['not a url'] }, names: /webhook_url_prefixes.*not an absolute URL/ },
      { body: { name: 'ok', webhook_url_prefixes: ['/hooks/'] }, names: /webhook_url_prefixes.*not an absolute URL/ },
      {
        body: { name: 'ok', webhook_url_prefixes: ['javascript:alert(1)'] },
        names: /webhook_url_prefixes.*javascript:/,
      },
      { body: { name: 'ok', webhook_url_prefixes: ['ftp://lms.example.edu/'] }, names: /webhook_url_prefixes.*ftp:/ },
      { body: { name: 'ok', webhook_url_prefixes: ['https://lms.example.edu/hooks?x=1'] }, names: /query/ },
      { body: { name: 'ok', webhook_url_prefixes: ['https://lms.example.edu/hooks?'] }, names: /query/ },
      { body: { name: 'ok', webhook_url_prefixes: ['https://lms.example.edu/hooks#top'] }, names: /fragment/ },
      { body: { name: 'ok', webhook_url_prefixes: ['https://u:p@lms.example.edu/'] }, names: /credentials/ },
      { body: { name: 'ok', webhook_url_prefixes: tooMany }, names: /webhook_url_prefixes/ },
      {
        body: { name: 'ok', webhook_url_prefixes: [`https://lms.example.edu/${'a'.repeat(2048)}`] },
        names: /webhook_url_prefixes/,
      },
    ];
    for (const { body, names } of refused) {
      const answer = await admin.post('/v1/clients', body);
      expect({ body, status: answer.status, code: answer.body?.code }).toEqual({
        body,
        status: 400,
        code: 'validation_failed',
      });
      expect({ body, message: answer.body.message }).toEqual({ body, message: expect.stringMatching(names) });
      expect(answer.body.details).toEqual(expect.arrayContaining([expect.any(String)]));
    }
    for (const body of ['[]', '"a name"', 'null', '{"name":']) {
      const answer = await admin.post('/v1/clients', body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.body?.code).toMatch(/^(body_not_object|malformed_json)$/);
    }
    const prototypeKey = await admin.post('/v1/clients', '{"name":"ok","__proto__":{"disabled":true}}');
    expectCode(prototypeKey, 400, 'validation_failed');
    expect((await allClients(admin)).length).toBe(countBefore);

    // The bounds themselves are accepted: 200 characters, 20 prefixes.
    const widest = await admin.post('/v1/clients', {
      name: 'n'.repeat(200),
      webhook_url_prefixes: tooMany.slice(0, 20),
    });
    expect(widest.status).toBe(201);
    expect(widest.body.webhook_url_prefixes).toHaveLength(20);

    const client = await admin.createClient('patched badly');
    const path = `/v1/clients/${client.client_id}`;
    for (const body of [
      { disabled: 'yes' },
      { disabled: 1 },
      { name: '' },
      { name: 'x'.repeat(201) },
      { webhook_url_prefixes: ['javascript:alert(1)'] },
      { api_keys: [] },
      { managed_by_environment: true },
      // null is not "left out": it is refused, not written (it once reached the database as a 500).
      { name: null },
      { disabled: null },
      { webhook_url_prefixes: null },
    ]) {
      const answer = await admin.patch(path, body);
      expect({ body, status: answer.status, code: answer.body?.code }).toEqual({
        body,
        status: 400,
        code: 'validation_failed',
      });
      expect(answer.body.message).toMatch(new RegExp(Object.keys(body)[0]));
    }
    expect((await admin.get(path)).body).toMatchObject({
      name: 'patched badly',
      disabled: false,
      webhook_url_prefixes: [],
      managed_by_environment: false,
    });
  });

  it('takes the fair-share settings on create and patch (the default client too), within their bounds', async () => {
    const created = await admin.post('/v1/clients', { name: 'weighted', weight: 3, max_in_flight: 2 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ weight: 3, max_in_flight: 2, max_backlog: 0, intake_rate_limit: 0 });
    const id = created.body.client_id as string;
    const patched = await admin.patch(`/v1/clients/${id}`, { max_backlog: 500, intake_rate_limit: 100, weight: 100 });
    expect(patched.body).toMatchObject({ weight: 100, max_in_flight: 2, max_backlog: 500, intake_rate_limit: 100 });
    const defaults = await admin.patch('/v1/clients/default', { weight: 2, max_in_flight: 1 });
    expect([defaults.status, defaults.body.weight, defaults.body.max_in_flight]).toEqual([200, 2, 1]);
    await admin.patch('/v1/clients/default', { weight: 1, max_in_flight: 0 });
    for (const body of [
      { weight: 0 },
      { weight: 101 },
      { weight: '3' },
      { weight: 1.5 },
      { weight: null },
      { max_in_flight: -1 },
      { max_backlog: 10_000_001 },
      { intake_rate_limit: true },
    ]) {
      const answer = await admin.patch(`/v1/clients/${id}`, body);
      expectCode(answer, 400, 'validation_failed');
      expect(answer.body.message).toContain(Object.keys(body)[0]);
    }
    expect((await admin.get(`/v1/clients/${id}`)).body).toMatchObject({ weight: 100, max_backlog: 500 });
  });

  it('disables a client: its keys get 403 client_disabled, its accepted job still finishes; re-enabled, they work', async () => {
    const client = await admin.createClient('to disable');
    const own = keyed(client.api_key);
    const operator = new RelayClient(stack.relay.url, { apiKey: ADMIN_KEY });
    const jobId = await own.submit({ submission_id: 'before-disable' });
    const disabled = await admin.patch(`/v1/clients/${client.client_id}`, { disabled: true });
    expect(disabled.body.disabled).toBe(true);

    expectCode(await own.submitAnswer({ submission_id: 'while-disabled' }), 403, 'client_disabled');
    expectCode(await own.get(`/v1/reviews/${jobId}`), 403, 'client_disabled');
    expectCode(await own.get('/v1/reviews'), 403, 'client_disabled');
    expectCode(await own.get('/v1/reviews/summary'), 403, 'client_disabled');
    const second = await admin.issueKey(client.client_id);
    expectCode(await keyed(second.api_key).get('/v1/reviews'), 403, 'client_disabled');

    // The job accepted before goes on: forwarded, answered (the operator plays the LLM), delivered.
    await operator.waitForStatus(jobId, 'processing');
    const simulated = await operator.post(`/simulate-llm/${jobId}`, {});
    expect(simulated.status).toBe(200);
    const delivered = await operator.waitForStatus(jobId, 'delivered');
    expect(delivered.client_id).toBe(client.client_id);
    expect(stack.web.for(jobId)).toHaveLength(1);
    expect(await operator.total({ client_id: client.client_id })).toBe(1);

    const enabled = await admin.patch(`/v1/clients/${client.client_id}`, { disabled: false });
    expect(enabled.body.disabled).toBe(false);
    const after = await own.submit({ submission_id: 'after-enable' });
    expect((await own.job(after)).client_id).toBe(client.client_id);
    expect((await keyed(second.api_key).job(jobId)).status).toBe('delivered');
  });

  it('issues keys (201, shown once) and revokes them (204): a revoked key is refused (401) from the next request', async () => {
    const client = await admin.createClient('keys');
    const firstKeyId = (client.api_keys as any[])[0].key_id;
    const before = Date.now();
    const issued = await admin.post(`/v1/clients/${client.client_id}/api-keys`);
    expect(issued.status).toBe(201);
    expect(Object.keys(issued.body).sort()).toEqual(['api_key', 'created_at', 'key_id']);
    expect(issued.body.key_id).toMatch(/^key_[0-9a-f]{20}$/);
    expect(issued.body.api_key).toMatch(/^rk_[A-Za-z0-9_-]{43}$/);
    expect(issued.body.api_key).not.toBe(client.api_key);
    expect(Date.parse(issued.body.created_at)).toBeGreaterThanOrEqual(before - 1000);

    // Both keys work; the client shows both by id, never the keys.
    const listingBy = async (key: string) => (await keyed(key).get('/v1/reviews')).status;
    expect(await listingBy(client.api_key)).toBe(200);
    const read = await admin.get(`/v1/clients/${client.client_id}`);
    expect(read.body.api_keys.map((key: any) => key.key_id)).toEqual([firstKeyId, issued.body.key_id]);
    for (const key of [client.api_key, issued.body.api_key]) expect(read.text).not.toContain(key.slice(3));

    // The first key's use is recorded; the new one, unused so far, has none.
    const used = await eventually(async () => {
      const keys = (await admin.get(`/v1/clients/${client.client_id}`)).body.api_keys;
      return keys[0].last_used_at !== null && keys;
    }, 'the first key to show a last use');
    expect(used[0].last_used_at).toMatch(ISO);
    expect(Date.parse(used[0].last_used_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(used[1].last_used_at).toBeNull();

    const revoked = await admin.delete(`/v1/clients/${client.client_id}/api-keys/${firstKeyId}`);
    expect(revoked.status).toBe(204);
    expect(revoked.text).toBe('');
    expectCode(await keyed(client.api_key).get('/v1/reviews'), 401, 'invalid_api_key');
    expectCode(await keyed(client.api_key).submitAnswer(), 401, 'invalid_api_key');
    expect(await listingBy(issued.body.api_key)).toBe(200);
    expect((await admin.get(`/v1/clients/${client.client_id}`)).body.api_keys.map((key: any) => key.key_id)).toEqual([
      issued.body.key_id,
    ]);

    // Revoking again, an unknown key id, or another client's key id: 404 api_key_not_found, and that key still works.
    const other = await admin.createClient('other keys');
    const otherKeyId = (other.api_keys as any[])[0].key_id;
    for (const keyId of [firstKeyId, `key_${'0'.repeat(20)}`, 'anything', otherKeyId]) {
      expectCode(await admin.delete(`/v1/clients/${client.client_id}/api-keys/${keyId}`), 404, 'api_key_not_found');
    }
    expect(await listingBy(other.api_key)).toBe(200);
    // A client may be left with no key at all: every one of its keys is then refused.
    expect((await admin.delete(`/v1/clients/${client.client_id}/api-keys/${issued.body.key_id}`)).status).toBe(204);
    expectCode(await keyed(issued.body.api_key).get('/v1/reviews'), 401, 'invalid_api_key');
    expect((await admin.get(`/v1/clients/${client.client_id}`)).body.api_keys).toEqual([]);
  });

  it('the default client: its keys and secret come from the environment (409), its name can be changed', async () => {
    const read = await admin.get('/v1/clients/default');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      client_id: 'default',
      managed_by_environment: true,
      disabled: false,
      api_keys: [],
      signing_secrets: [],
    });
    expect(read.text).not.toContain(DEFAULT_KEY);
    expectCode(await admin.post('/v1/clients/default/api-keys'), 409, 'managed_by_environment');
    expectCode(await admin.delete(`/v1/clients/default/api-keys/key_${'0'.repeat(20)}`), 409, 'managed_by_environment');
    const renamed = await admin.patch('/v1/clients/default', { name: 'Legacy LMS' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ client_id: 'default', name: 'Legacy LMS', managed_by_environment: true });
    expect((await admin.get('/v1/clients?limit=1')).body.items[0]).toMatchObject({
      client_id: 'default',
      name: 'Legacy LMS',
    });
    // Its environment key still submits, as `default`.
    const jobId = await stack.client.submit({}, bearer(DEFAULT_KEY));
    expect((await keyed(DEFAULT_KEY).job(jobId)).client_id).toBe('default');
    // Its settings are the API's: disabled, its environment keys are refused like any client's.
    try {
      expect((await admin.patch('/v1/clients/default', { disabled: true })).body.disabled).toBe(true);
      expectCode(await keyed(DEFAULT_KEY).submitAnswer(), 403, 'client_disabled');
      expectCode(await keyed(DEFAULT_KEY).get(`/v1/reviews/${jobId}`), 403, 'client_disabled');
      expect((await admin.get(`/v1/reviews/${jobId}`)).body.client_id).toBe('default');
    } finally {
      await admin.patch('/v1/clients/default', { disabled: false });
    }
    expect((await keyed(DEFAULT_KEY).job(jobId)).job_id).toBe(jobId);
  });

  it('roles: client keys get 403 admin_key_required here, no key or an unknown one 401, admin keys cannot submit', async () => {
    const client = await admin.createClient('roles');
    const routes: Array<[method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: unknown]> = [
      ['get', '/v1/clients'],
      ['post', '/v1/clients', { name: 'by a client' }],
      ['get', `/v1/clients/${client.client_id}`],
      ['patch', `/v1/clients/${client.client_id}`, { disabled: true }],
      ['post', `/v1/clients/${client.client_id}/api-keys`],
      ['delete', `/v1/clients/${client.client_id}/api-keys/${(client.api_keys as any[])[0].key_id}`],
      ['get', '/v1/clients/default'],
    ];
    const anonymous = new RelayClient(stack.relay.url);
    for (const [method, path, body] of routes) {
      for (const key of [client.api_key, DEFAULT_KEY]) {
        const viaHeader = await keyed(key).call(method, path, body);
        expect({ method, path, status: viaHeader.status, code: viaHeader.body?.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'admin_key_required',
        });
        const viaBearer = await anonymous.call(method, path, body, bearer(key).headers);
        expectCode(viaBearer, 403, 'admin_key_required');
      }
      for (const headers of [
        {},
        { 'x-api-key': 'not-a-key' },
        { 'x-api-key': `rk_${'A'.repeat(43)}` },
        bearer(`${ADMIN_KEY}x`).headers,
        { authorization: `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}` },
      ]) {
        const answer = await anonymous.call(method, path, body, headers);
        expect({ method, path, headers, status: answer.status, code: answer.body?.code }).toEqual({
          method,
          path,
          headers,
          status: 401,
          code: 'invalid_api_key',
        });
      }
    }
    // Nothing changed by the refused calls.
    const after = await admin.get(`/v1/clients/${client.client_id}`);
    expect(after.body).toMatchObject({ disabled: false, api_keys: [expect.anything()] });
    expect((await allClients(admin)).map((c) => c.name)).not.toContain('by a client');

    // Either admin key, as X-API-Key or Bearer, manages; neither submits.
    expect((await keyed('second-admin-key-0123456789').get('/v1/clients')).status).toBe(200);
    for (const headers of [
      { 'x-api-key': ADMIN_KEY },
      bearer(ADMIN_KEY).headers,
      bearer('second-admin-key-0123456789').headers,
    ]) {
      const answer = await stack.client.submitAnswer({ submission_id: 'by-admin' }, { headers });
      expectCode(answer, 403, 'admin_key_cannot_submit');
    }
    expect(await keyed(ADMIN_KEY).total({ submission_id: 'by-admin' })).toBe(0);
  });
});

describe('open mode: no key of any kind configured', () => {
  const stack = useLoopbackStack();

  it('takes any request without a key (jobs are the default client’s), but never manages clients', async () => {
    const jobId = await stack.client.submit({ submission_id: 'open' });
    const job = await stack.client.job(jobId);
    expect(job.client_id).toBe('default');
    expect((await stack.client.get('/v1/reviews')).body.items.map((item: any) => item.job_id)).toContain(jobId);
    expect((await stack.client.get('/v1/reviews/summary')).status).toBe(200);
    expect((await stack.client.get(`/v1/reviews/${jobId}/attempts`)).status).toBe(200);
    // Any key is as good as none.
    const withKey = await stack.client.submit({ submission_id: 'open-with-key' }, { apiKey: 'whatever' });
    expect((await stack.client.job(withKey)).client_id).toBe('default');
    // Clients are managed only with an admin key, and there is none: 403 admin_key_required, nothing created.
    for (const [method, path, body] of [
      ['get', '/v1/clients'],
      ['post', '/v1/clients', { name: 'in open mode' }],
      ['get', '/v1/clients/default'],
      ['patch', '/v1/clients/default', { name: 'renamed in open mode' }],
      ['post', '/v1/clients/default/api-keys'],
    ] as const) {
      const answer = await stack.client.call(method, path, body);
      expect({ method, path, status: answer.status, code: answer.body?.code }).toEqual({
        method,
        path,
        status: 403,
        code: 'admin_key_required',
      });
    }
    // Still open: nothing was created.
    expect((await stack.client.submitAnswer({ submission_id: 'still-open' })).status).toBe(202);
  });
});

describe('a created client closes the API for good, even with no key left in the environment', () => {
  const stack = useLoopbackStack({ relay: false });
  let dir: string;
  beforeAll(() => {
    dir = tempDir('relay-clients-closed-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('no key → 401 after a restart without RELAY_ADMIN_KEYS; the client’s key still works', async () => {
    const encryptionKey = newEncryptionKey();
    const first = await stack.startAnother({ RELAY_ADMIN_KEYS: ADMIN_KEY, RELAY_ENCRYPTION_KEY: encryptionKey }, dir);
    const client = await new Admin(first.url, ADMIN_KEY).createClient('keeps it closed');
    await first.close();

    const second = await stack.startAnother({ RELAY_ENCRYPTION_KEY: encryptionKey }, dir);
    const anonymous = stack.clientFor(second);
    expectCode(await anonymous.submitAnswer(), 401, 'invalid_api_key');
    expectCode(await anonymous.get('/v1/reviews'), 401, 'invalid_api_key');
    expectCode(await anonymous.submitAnswer({}, { apiKey: 'guess' }), 401, 'invalid_api_key');
    const jobId = await anonymous.submit({}, bearer(client.api_key));
    expect((await new RelayClient(second.url, { apiKey: client.api_key }).job(jobId)).client_id).toBe(client.client_id);
  });
});
