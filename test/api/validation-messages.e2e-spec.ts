import { eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { reviewBody } from '../support/relay-client';

const KEY = 'key-validation-0123456789';

describe('bad input gets one clear message per problem', () => {
  const stack = useLoopbackStack({ env: { RELAY_API_KEYS: KEY }, apiKey: KEY });

  const post = (path: string, body: unknown, type = 'application/json') =>
    stack.relay.http
      .post(path)
      .set('x-api-key', KEY)
      .set('content-type', type)
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  async function queuedJob(): Promise<{ jobId: string; callbackUrl: string }> {
    const jobId = await stack.client.submit();
    const forward = await eventually(() => stack.llm.for(jobId)[0], 'the forward');
    return { jobId, callbackUrl: forward.json.callback_url };
  }

  it.each([
    [{}, ['submission_id is required', 'file_refs is required', 'webhook_url is required']],
    [
      { submission_id: 5, file_refs: [{ url: 'https://f.example/1' }], webhook_url: 'https://w.example/h' },
      ['submission_id must be a string'],
    ],
    [
      { submission_id: '', file_refs: [{ url: 'https://f.example/1' }], webhook_url: 'https://w.example/h' },
      ['submission_id must be longer than or equal to 1 characters'],
    ],
    [
      { submission_id: 's', file_refs: ['https://f.example/1'], webhook_url: 'https://w.example/h' },
      ['file_refs[0] must be an object with a url'],
    ],
    [
      { submission_id: 's', file_refs: [{ url: 'https://f.example/1' }, {}], webhook_url: 'https://w.example/h' },
      ['file_refs[1].url is required'],
    ],
    [
      { submission_id: 's', file_refs: [{ url: 'https://f.example/1', size: 1 }], webhook_url: 'https://w.example/h' },
      ['file_refs[0].size is not an accepted field'],
    ],
    [{ submission_id: 's', file_refs: 'x', webhook_url: 'https://w.example/h' }, ['file_refs must be an array']],
  ])('intake %j → %j', async (body, details) => {
    const response = await post('/v1/reviews', body).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, code: 'validation_failed', details });
    expect(response.body.message).toBe(details.join('; '));
  });

  it.each([
    [{ ok: false, error: [] }, ['error must be an object']],
    [{ ok: false, error: null }, ['error must be an object']],
    [{ ok: false, error: {} }, ['error must have a code, a message, or both']],
    [{ ok: false, error: { code: 7 } }, ['error.code must be a string']],
    [{ ok: 'yes' }, ['ok must be a boolean value']],
  ])('callback %j → %j', async (body, details) => {
    const { callbackUrl } = await queuedJob();
    const path = callbackUrl.slice(callbackUrl.indexOf('/v1/'));
    expect((await post(path, body).expect(400)).body).toMatchObject({ code: 'validation_failed', details });
  });

  it('refuses a body that is not a JSON object, and a charset other than UTF-8 with 415', async () => {
    const { jobId } = await queuedJob();
    expect((await post(`/simulate-llm/${jobId}`, 'null').expect(400)).body).toMatchObject({ code: 'body_not_object' });
    expect((await post('/v1/reviews', '[1]').expect(400)).body).toMatchObject({ code: 'body_not_object' });
    expect((await post(`/simulate-llm/${jobId}`, { ok: null }).expect(400)).body.details).toEqual([
      'ok must be a boolean value',
    ]);
    const utf16 = Buffer.from(JSON.stringify(reviewBody(`${stack.web.url}/hook`)), 'utf16le');
    const refused = await stack.relay.http
      .post('/v1/reviews')
      .set('x-api-key', KEY)
      .set('content-type', 'application/json; charset=utf-16')
      .send(utf16);
    expect(refused.status).toBe(415);
    expect(refused.body).toMatchObject({ code: 'unsupported_charset' });
    await post('/v1/reviews', reviewBody(`${stack.web.url}/hook`), 'application/json; charset=UTF-8').expect(202);
  });

  it('the simulation endpoint needs a key when keys are set, and simulates an LLM failure with the README body (the callback body shape)', async () => {
    const jobId = (
      await stack.relay.http
        .post('/v1/reviews')
        .set('authorization', `Bearer ${KEY}`)
        .send(reviewBody(`${stack.web.url}/hook`))
        .expect(202)
    ).body.job_id;
    const failure = { ok: false, error: { code: 'model_overloaded', message: 'The document could not be parsed' } };
    expect((await stack.relay.http.post(`/simulate-llm/${jobId}`).send(failure).expect(401)).body).toMatchObject({
      code: 'invalid_api_key',
    });
    await stack.relay.http.post(`/simulate-llm/${jobId}`).set('x-api-key', 'wrong').send(failure).expect(401);
    expect((await stack.relay.http.get(`/v1/reviews/${jobId}`).set('x-api-key', KEY).expect(200)).body.ok).toBeNull();

    expect(
      (await stack.relay.http.post(`/simulate-llm/${jobId}`).set('x-api-key', KEY).send(failure).expect(200)).body,
    ).toEqual({ job_id: jobId, status: 'accepted' });
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery');
    expect(delivery.json).toMatchObject({
      ok: false,
      error: { code: 'llm_error', message: 'model_overloaded: The document could not be parsed' },
    });
  });
});
