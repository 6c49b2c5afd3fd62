import { checkResponse } from '../support/openapi-check';
import { reviewBody, RunningRelay, startRelay } from '../support/relay';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** The check every in-process answer goes through (openapi-setup.ts) must be able to fail. */
describe('answers are checked against the OpenAPI document', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('accepts the answers the relay gives, with any JSON value as a result', async () => {
    const accepted = await relay.http.post('/v1/reviews').send(reviewBody('http://127.0.0.1:9/hook')).expect(202);
    const job = (await relay.http.get(`/v1/reviews/${accepted.body.job_id}`).expect(200)).body;
    for (const result of [null, 'text', 3.5, [1, 'two'], { nested: { constructor: 1 } }]) {
      expect(checkResponse('GET', `/v1/reviews/${job.job_id}`, 200, 'application/json; charset=utf-8', json({ ...job, result }))).toBeNull();
    }
    const page = (await relay.http.get('/v1/reviews').expect(200)).body;
    expect(checkResponse('GET', '/v1/reviews?limit=20', 200, 'application/json', json(page))).toBeNull();
  });

  it('reports an undocumented status, a body off its schema, and a wrong content type', async () => {
    const accepted = await relay.http.post('/v1/reviews').send(reviewBody('http://127.0.0.1:9/hook')).expect(202);
    const job = (await relay.http.get(`/v1/reviews/${accepted.body.job_id}`).expect(200)).body;
    expect(checkResponse('GET', `/v1/reviews/${job.job_id}`, 418, 'application/json', json(job))).toMatch(/status not documented/);
    const { result: _dropped, ...withoutResult } = job;
    expect(checkResponse('GET', `/v1/reviews/${job.job_id}`, 200, 'application/json', json(withoutResult))).toMatch(/does not match the schema.*result/);
    expect(checkResponse('GET', `/v1/reviews/${job.job_id}`, 200, 'application/json', json({ ...job, status: 'lost' }))).toMatch(/does not match/);
    expect(checkResponse('POST', '/v1/reviews', 202, 'text/html', Buffer.from('<p>'))).toMatch(/content-type/);
    expect(checkResponse('POST', '/v1/reviews', 400, 'application/json', json({ statusCode: 400 }))).toMatch(/does not match/);
  });
});
