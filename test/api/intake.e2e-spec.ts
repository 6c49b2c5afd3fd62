import { useLoopbackStack } from '../support/loopback-stack';
import { reviewBody } from '../support/relay-client';

describe('intake: validation, idempotency, listing, API keys', () => {
  const stack = useLoopbackStack({ env: { INTAKE_MAX_BODY_BYTES: '65536' } });
  const hook = 'https://web.example.com/hook';

  const total = () => stack.client.total({ submission_id: 'bad-input' });

  describe('rejects bad input with a JSON reason and stores nothing', () => {
    const bad = (overrides: Record<string, unknown>) => reviewBody(hook, { submission_id: 'bad-input', ...overrides });
    const withoutField = (field: string) => {
      const body = bad({});
      delete body[field];
      return body;
    };

    it.each([
      ['missing submission_id', withoutField('submission_id'), 'submission_id'],
      ['missing webhook_url', withoutField('webhook_url'), 'webhook_url'],
      ['missing file_refs', withoutField('file_refs'), 'file_refs'],
      ['empty file_refs', bad({ file_refs: [] }), 'file_refs'],
      ['unknown field', bad({ urgency: 'high' }), 'urgency'],
      ['unknown priority', bad({ priority: 'urgent' }), 'priority'],
      ['priority of another type', bad({ priority: 1 }), 'priority'],
      ['unknown nested field', bad({ file_refs: [{ url: 'https://f/1', secret: 1 }] }), 'secret'],
      ['ftp webhook', bad({ webhook_url: 'ftp://web.example.com/hook' }), 'webhook_url'],
      ['relative webhook', bad({ webhook_url: '/hook' }), 'webhook_url'],
      ['webhook with credentials', bad({ webhook_url: 'https://u:p@web.example.com/' }), 'webhook_url'],
      ['webhook with a newline', bad({ webhook_url: 'https://web.example.com/\nX-Injected: 1' }), 'webhook_url'],
      ['javascript file url', bad({ file_refs: [{ url: 'javascript:alert(1)' }] }), 'url'],
      ['number as submission_id', bad({ submission_id: 42 }), 'submission_id'],
      ['too long submission_id', bad({ submission_id: 'x'.repeat(201) }), 'submission_id'],
      ['metadata not an object', bad({ metadata: 'text' }), 'metadata'],
      ['metadata too big', bad({ metadata: { blob: 'x'.repeat(17 * 1024) } }), 'metadata'],
      [
        'too many files',
        bad({ file_refs: Array.from({ length: 101 }, (_, i) => ({ url: `https://f/${i}` })) }),
        'file_refs',
      ],
    ])('%s → 400', async (_name, body, field) => {
      const response = await stack.relay.http.post('/v1/reviews').send(body).expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'validation_failed' });
      expect(response.body.message).toContain(field);
    });

    it('malformed JSON → 400', async () => {
      const response = await stack.relay.http
        .post('/v1/reviews')
        .set('content-type', 'application/json')
        .send('{"submission_id": ')
        .expect(400);
      expect(response.body).toMatchObject({ code: 'malformed_json' });
    });

    it('a JSON array or scalar body → 400', async () => {
      await stack.relay.http.post('/v1/reviews').set('content-type', 'application/json').send('[1,2]').expect(400);
      await stack.relay.http.post('/v1/reviews').set('content-type', 'application/json').send('"x"').expect(400);
    });

    it('non-JSON content type → 415', async () => {
      const response = await stack.relay.http
        .post('/v1/reviews')
        .set('content-type', 'text/plain')
        .send('submission_id=1')
        .expect(415);
      expect(response.body).toMatchObject({ code: 'unsupported_media_type' });
    });

    it('over the size limit → 413', async () => {
      const body = bad({ metadata: { blob: 'x'.repeat(70_000) } });
      const response = await stack.relay.http.post('/v1/reviews').send(body).expect(413);
      expect(response.body).toMatchObject({ code: 'payload_too_large' });
    });

    it('excessive nesting → 400', async () => {
      const deep = '['.repeat(5000) + ']'.repeat(5000);
      const response = await stack.relay.http
        .post('/v1/reviews')
        .set('content-type', 'application/json')
        .send(`{"submission_id":"bad-input","metadata":{"x":${deep}}}`)
        .expect(400);
      expect(response.body).toMatchObject({ code: 'too_deeply_nested' });
    });

    it('a bad Idempotency-Key → 400', async () => {
      await stack.relay.http.post('/v1/reviews').set('idempotency-key', 'x'.repeat(256)).send(bad({})).expect(400);
    });

    afterAll(async () => {
      expect(await total()).toBe(0);
    });
  });

  it('Idempotency-Key: same body → same job; other body → 409; concurrent repeats → one job', async () => {
    const body = reviewBody(hook, { submission_id: 'idem-1' });
    const first = await stack.relay.http.post('/v1/reviews').set('idempotency-key', 'key-1').send(body).expect(202);
    const again = await stack.relay.http
      .post('/v1/reviews')
      .set('idempotency-key', 'key-1')
      .send({ ...body })
      .expect(202);
    expect(again.body.job_id).toBe(first.body.job_id);
    const conflict = await stack.relay.http
      .post('/v1/reviews')
      .set('idempotency-key', 'key-1')
      .send({ ...body, student_id: 'someone-else' })
      .expect(409);
    expect(conflict.body).toMatchObject({ code: 'idempotency_key_reused' });

    const racing = reviewBody(hook, { submission_id: 'idem-2' });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        stack.relay.http.post('/v1/reviews').set('idempotency-key', 'key-2').send(racing),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    expect(new Set(answers.map((a) => a.body.job_id)).size).toBe(1);
    expect(await stack.client.total({ submission_id: 'idem-2' })).toBe(1);
  });

  it('lists jobs newest first with filters and pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(
        (
          await stack.relay.http
            .post('/v1/reviews')
            .send(reviewBody(hook, { submission_id: 'paged' }))
            .expect(202)
        ).body.job_id,
      );
    }
    const page1 = (
      await stack.relay.http
        .get('/v1/reviews')
        .query({ submission_id: 'paged', limit: 2, include_total: 'true' })
        .expect(200)
    ).body;
    expect(page1).toMatchObject({ total: 5, limit: 2, offset: 0, next_offset: 2, next_cursor: expect.any(String) });
    const page3 = (
      await stack.relay.http.get('/v1/reviews').query({ submission_id: 'paged', limit: 2, offset: 4 }).expect(200)
    ).body;
    expect(page3).toMatchObject({ next_offset: null, next_cursor: null });
    expect(page3).not.toHaveProperty('total');
    const seen = [
      ...page1.items,
      ...(await stack.relay.http.get('/v1/reviews').query({ submission_id: 'paged', limit: 2, offset: 2 })).body.items,
      ...page3.items,
    ];
    expect(seen.map((j: any) => j.job_id).sort()).toEqual([...ids].sort());
    expect(seen.every((j: any) => j.submission_id === 'paged')).toBe(true);
    await stack.relay.http.get('/v1/reviews').query({ status: 'nonsense' }).expect(400);
    await stack.relay.http.get('/v1/reviews').query({ limit: 1000 }).expect(400);
    const job = (await stack.relay.http.get(`/v1/reviews/${ids[0]}`).expect(200)).body;
    expect(Object.keys(job)).not.toEqual(expect.arrayContaining(['callback_token_hashes', 'lease_token']));
    expect(JSON.stringify(job)).not.toMatch(/token|lease|hash/i);
  });

  it('echoes a safe X-Request-Id, or makes one', async () => {
    const given = await stack.relay.http.get('/v1/reviews').set('x-request-id', 'req-123.abc').expect(200);
    expect(given.headers['x-request-id']).toBe('req-123.abc');
    const made = await stack.relay.http.get('/v1/reviews').set('x-request-id', 'bad id\twith spaces').expect(200);
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 with a JSON body for unknown jobs and routes', async () => {
    expect((await stack.relay.http.get('/v1/reviews/job_missing').expect(404)).body).toMatchObject({
      code: 'job_not_found',
    });
    expect((await stack.relay.http.get('/v1/reviews/job_missing/attempts').expect(404)).body).toMatchObject({
      code: 'job_not_found',
    });
    expect((await stack.relay.http.get('/nowhere').expect(404)).body).toMatchObject({
      statusCode: 404,
      code: 'not_found',
    });
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = (await stack.relay.http.get('/docs-json').expect(200)).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/reviews',
        '/v1/reviews/{job_id}',
        '/v1/reviews/{job_id}/attempts',
        '/v1/reviews/{job_id}/redeliver',
        '/v1/llm/callback/{job_id}',
        '/simulate-llm/{job_id}',
      ]),
    );
    expect(Object.keys(doc.paths)).not.toContain('/simulated-llm/{path}');
    expect(doc.components.securitySchemes).toHaveProperty('api-key');
    const html = await stack.relay.http.get('/docs').expect(200);
    expect(html.text).toContain('swagger-ui');
  });
});

describe('API keys', () => {
  const stack = useLoopbackStack({ llm: false, env: { RELAY_API_KEYS: 'alpha-key,beta-key' } });

  it('guard the reviews routes, by Bearer or X-API-Key', async () => {
    const body = reviewBody('http://127.0.0.1:9/hook');
    expect((await stack.relay.http.post('/v1/reviews').send(body).expect(401)).body).toMatchObject({
      code: 'invalid_api_key',
    });
    await stack.relay.http.post('/v1/reviews').set('authorization', 'Bearer wrong').send(body).expect(401);
    await stack.relay.http.get('/v1/reviews').set('x-api-key', 'alpha-ke').expect(401);
    const created = await stack.relay.http
      .post('/v1/reviews')
      .set('authorization', 'Bearer beta-key')
      .send(body)
      .expect(202);
    await stack.relay.http.get(`/v1/reviews/${created.body.job_id}`).set('x-api-key', 'alpha-key').expect(200);
  });

  it('leave the callback route to the per-job credential', async () => {
    const response = await stack.relay.http.post('/v1/llm/callback/job_x').send({ ok: true }).expect(404);
    expect(response.body.code).toBe('job_not_found');
  });
});
