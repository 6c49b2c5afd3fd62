import { eventually, FakeServer } from './support/fake-server';
import { reviewBody, RunningRelay, startRelay } from './support/relay';

describe('intake past INTAKE_MAX_BACKLOG', () => {
  let llm: FakeServer;
  let web: FakeServer;
  let relay: RunningRelay;

  beforeAll(async () => {
    // The LLM refuses every forward for now (503, retried later): accepted jobs stay queued, so the backlog fills.
    llm = await FakeServer.start(() => ({ status: 503, headers: { 'retry-after': '3600' } }));
    web = await FakeServer.start(() => ({ status: 200 }));
    relay = await startRelay({ LLM_API_URL: llm.url, INTAKE_MAX_BACKLOG: '3' });
  });
  afterAll(async () => {
    await relay.close();
    await llm.close();
    await web.close();
  });

  it('answers 503 with Retry-After once the backlog is full, counts it, and still serves the accepted jobs', async () => {
    const accepted: string[] = [];
    const refused = (await eventually(async () => {
      const answer = await relay.http.post('/v1/reviews').send(reviewBody(`${web.url}/hook`));
      if (answer.status === 202) accepted.push(answer.body.job_id);
      return answer.status === 503 ? answer : null;
    }, 'a refusal'))!;
    expect(accepted.length).toBeGreaterThanOrEqual(3);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.body).toMatchObject({ statusCode: 503, code: 'backlog_full', message: expect.stringContaining('INTAKE_MAX_BACKLOG') });
    expect((await relay.http.get('/metrics').expect(200)).text).toMatch(/relay_intake_rejected_total\{reason="backlog_full"\} [1-9]/);

    // Work already accepted still moves: a result for one of them is delivered while intake is refused.
    await relay.http.post(`/simulate-llm/${accepted[0]}`).send({ ok: true, result: { score: 1 } }).expect(200);
    await eventually(() => web.for(accepted[0])[0], 'the delivery of an accepted job');
    expect((await relay.http.get(`/v1/reviews?status=queued`).expect(200)).body.total).toBe(accepted.length - 1);
  });
});
