import { eventually, FakeServer, postJson } from '../support/fake-server';
import { reviewBody, RunningRelay, startRelay } from '../support/relay';

describe('forward leg, callback deadline and simulation', () => {
  let llm: FakeServer;
  let web: FakeServer;
  let relay: RunningRelay;

  beforeEach(async () => {
    llm = await FakeServer.start(() => ({ status: 202 }));
    web = await FakeServer.start();
  });

  afterEach(async () => {
    await relay.close();
    await llm.close();
    await web.close();
  });

  async function submit(): Promise<string> {
    return (await relay.http.post('/v1/reviews').send(reviewBody(`${web.url}/hook`)).expect(202)).body.job_id;
  }

  const statusOf = async (jobId: string) => (await relay.http.get(`/v1/reviews/${jobId}`)).body;

  it('retries the forward on 5xx, 408 and 429 until the LLM accepts it', async () => {
    relay = await startRelay({ LLM_API_URL: llm.url });
    const answers = [503, 408, 429, 202];
    llm.handler = (_request, index) => ({ status: answers[index] });
    const jobId = await submit();
    const job = await eventually(async () => {
      const current = await statusOf(jobId);
      return current.status === 'processing' && current;
    }, 'processing');
    expect(llm.for(jobId)).toHaveLength(4);
    expect(job.forward_attempts).toBe(4);
    expect(job.forwarded_at).not.toBeNull();
    expect(Date.parse(job.callback_deadline_at)).toBeGreaterThan(Date.now());
    // Each forward attempt carries a fresh credential; the latest one is accepted.
    const tokens = llm.for(jobId).map((r) => r.json.callback_token);
    expect(new Set(tokens).size).toBe(4);
    expect((await postJson(llm.for(jobId)[3].json.callback_url, { ok: true, result: 1 })).status).toBe(200);
    await eventually(() => web.for(jobId)[0], 'the delivery');
  });

  it('reports forward_failed to the web service when the LLM is down and retries run out', async () => {
    const port = new URL(llm.url).port;
    await llm.close();
    llm = await FakeServer.start();
    relay = await startRelay({ LLM_API_URL: `http://127.0.0.1:${port}`, FORWARD_MAX_RETRIES: '2' });
    const jobId = await submit();
    const delivery = await eventually(() => web.for(jobId)[0], 'the failure delivery');
    expect(delivery.json).toMatchObject({ job_id: jobId, ok: false, result: null, error: { code: 'forward_failed' } });
    expect(delivery.json.error.message).toMatch(/after 3 attempt\(s\)/);
    const attempts = (await relay.http.get(`/v1/reviews/${jobId}/attempts`)).body.items;
    expect(attempts.filter((a: any) => a.leg === 'forward').map((a: any) => a.outcome)).toEqual(['retry', 'retry', 'failed']);
  });

  it('does not retry a forward the LLM refuses with a 4xx', async () => {
    relay = await startRelay({ LLM_API_URL: llm.url });
    llm.handler = () => ({ status: 422 });
    const jobId = await submit();
    const delivery = await eventually(() => web.for(jobId)[0], 'the failure delivery');
    expect(delivery.json.error).toMatchObject({ code: 'forward_failed', message: expect.stringContaining('HTTP 422') });
    expect(llm.for(jobId)).toHaveLength(1);
  });

  it('ends a job whose callback never comes with llm_timeout, and a late callback changes nothing', async () => {
    relay = await startRelay({ LLM_API_URL: llm.url, LLM_CALLBACK_TIMEOUT_SECONDS: '0.3' });
    const jobId = await submit();
    const delivery = await eventually(() => web.for(jobId)[0], 'the timeout delivery');
    expect(delivery.json).toMatchObject({ ok: false, error: { code: 'llm_timeout' } });
    const late = await postJson(llm.for(jobId)[0].json.callback_url, { ok: true, result: 'late' });
    expect(late).toMatchObject({ status: 409, json: { code: 'result_already_recorded' } });
    await relay.scheduler.settled();
    expect(web.for(jobId)).toHaveLength(1);
    expect((await statusOf(jobId)).error.code).toBe('llm_timeout');
  });

  it('simulate-llm feeds a given result, or generates one, through the callback path', async () => {
    relay = await startRelay({ LLM_API_URL: llm.url });
    const given = await submit();
    const generated = await submit();
    await relay.http.post(`/simulate-llm/${given}`).send({ ok: true, result: { score: 1 } }).expect(200, { job_id: given, status: 'accepted' });
    await relay.http.post(`/simulate-llm/${generated}`).expect(200, { job_id: generated, status: 'accepted' });
    expect((await eventually(() => web.for(given)[0], 'given delivery')).json.result).toEqual({ score: 1 });
    const made = (await eventually(() => web.for(generated)[0], 'generated delivery')).json.result;
    expect(made).toMatchObject({ score: expect.any(Number), feedback: expect.any(String), model: 'simulated-llm' });
    await relay.http.post(`/simulate-llm/${given}`).send({ ok: true, result: { score: 0 } }).expect(409);
    await relay.http.post('/simulate-llm/job_missing').expect(404);
  });

  it('simulate-llm is off when SIMULATION_ENABLED=false', async () => {
    relay = await startRelay({ LLM_API_URL: llm.url, SIMULATION_ENABLED: 'false' });
    const jobId = await submit();
    const answer = await relay.http.post(`/simulate-llm/${jobId}`).expect(404);
    expect(answer.body.code).toBe('simulation_disabled');
  });

  it('without LLM_API_URL the built-in simulated LLM completes the cycle', async () => {
    relay = await startRelay({});
    const jobId = await submit();
    const delivery = await eventually(() => web.for(jobId)[0], 'the delivery');
    expect(delivery.json).toMatchObject({ job_id: jobId, ok: true, result: { model: 'simulated-llm' } });
    const attempts = (await relay.http.get(`/v1/reviews/${jobId}/attempts`)).body.items;
    expect(attempts[0]).toMatchObject({ leg: 'forward', status_code: 202, outcome: 'success' });
  });
});
