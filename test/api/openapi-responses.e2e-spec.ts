import { checkResponse } from '../support/openapi-check';
import { useLoopbackStack } from '../support/loopback-stack';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** The check every in-process answer goes through (openapi-setup.ts) must be able to fail. */
describe('answers are checked against the OpenAPI document', () => {
  const stack = useLoopbackStack({ llm: false });

  it('accepts the answers the relay gives, with any JSON value as a result', async () => {
    const job = await stack.client.job(await stack.client.submit({ webhook_url: 'http://127.0.0.1:9/hook' }));
    for (const result of [null, 'text', 3.5, [1, 'two'], { nested: { constructor: 1 } }]) {
      expect(
        checkResponse(
          'GET',
          `/v1/reviews/${job.job_id}`,
          200,
          'application/json; charset=utf-8',
          json({ ...job, result }),
        ),
      ).toBeNull();
    }
    const page = (await stack.relay.http.get('/v1/reviews').expect(200)).body;
    expect(checkResponse('GET', '/v1/reviews?limit=20', 200, 'application/json', json(page))).toBeNull();
  });

  it('reports an undocumented status, a body off its schema, and a wrong content type', async () => {
    const job = await stack.client.job(await stack.client.submit({ webhook_url: 'http://127.0.0.1:9/hook' }));
    expect(checkResponse('GET', `/v1/reviews/${job.job_id}`, 418, 'application/json', json(job))).toMatch(
      /status not documented/,
    );
    const { result: _dropped, ...withoutResult } = job;
    expect(checkResponse('GET', `/v1/reviews/${job.job_id}`, 200, 'application/json', json(withoutResult))).toMatch(
      /does not match the schema.*result/,
    );
    expect(
      checkResponse('GET', `/v1/reviews/${job.job_id}`, 200, 'application/json', json({ ...job, status: 'lost' })),
    ).toMatch(/does not match/);
    expect(checkResponse('POST', '/v1/reviews', 202, 'text/html', Buffer.from('<p>'))).toMatch(/content-type/);
    expect(checkResponse('POST', '/v1/reviews', 400, 'application/json', json({ statusCode: 400 }))).toMatch(
      /does not match/,
    );
  });
});
