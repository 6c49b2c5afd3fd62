import { eventually, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';

describe('forward leg, callback deadline and simulation', () => {
  const stack = useLoopbackStack({ relay: false }, 'each');
  const submit = () => stack.client.submit();
  const statusOf = (jobId: string) => stack.client.job(jobId);

  it('retries the forward on 5xx, 408 and 429 until the LLM accepts it', async () => {
    await stack.start();
    const answers = [503, 408, 429, 202];
    stack.llm.handler = (_request, index) => ({ status: answers[index] });
    const jobId = await submit();
    const job = await stack.client.waitForStatus(jobId, 'processing');
    expect(stack.llm.for(jobId)).toHaveLength(4);
    expect(job.forward_attempts).toBe(4);
    expect(job.forwarded_at).not.toBeNull();
    expect(Date.parse(job.callback_deadline_at)).toBeGreaterThan(Date.now());
    // Each forward attempt carries a fresh credential; the latest one is accepted.
    const tokens = stack.llm.for(jobId).map((r) => r.json.callback_token);
    expect(new Set(tokens).size).toBe(4);
    expect((await postJson(stack.llm.for(jobId)[3].json.callback_url, { ok: true, result: 1 })).status).toBe(200);
    await eventually(() => stack.web.for(jobId)[0], 'the delivery');
  });

  it('reports forward_failed to the web service when the LLM is down and retries run out', async () => {
    // The fake LLM's port, closed: every forward is refused.
    const down = stack.llm.url;
    await stack.llm.close();
    await stack.start({ LLM_API_URL: down, FORWARD_MAX_RETRIES: '2' });
    const jobId = await submit();
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the failure delivery');
    expect(delivery.json).toMatchObject({ job_id: jobId, ok: false, result: null, error: { code: 'forward_failed' } });
    expect(delivery.json.error.message).toMatch(/after 3 attempt\(s\)/);
    const attempts = await stack.client.attempts(jobId);
    expect(attempts.filter((a: any) => a.leg === 'forward').map((a: any) => a.outcome)).toEqual([
      'retry',
      'retry',
      'failed',
    ]);
  });

  it('does not retry a forward the LLM refuses with a 4xx', async () => {
    await stack.start();
    stack.llm.handler = () => ({ status: 422 });
    const jobId = await submit();
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the failure delivery');
    expect(delivery.json.error).toMatchObject({ code: 'forward_failed', message: expect.stringContaining('HTTP 422') });
    expect(stack.llm.for(jobId)).toHaveLength(1);
  });

  it('ends a job whose callback never comes with llm_timeout, and a late callback changes nothing', async () => {
    await stack.start({ LLM_CALLBACK_TIMEOUT_SECONDS: '0.3' });
    const jobId = await submit();
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the timeout delivery');
    expect(delivery.json).toMatchObject({ ok: false, error: { code: 'llm_timeout' } });
    const late = await postJson(stack.llm.for(jobId)[0].json.callback_url, { ok: true, result: 'late' });
    expect(late).toMatchObject({ status: 409, json: { code: 'result_already_recorded' } });
    await stack.relay.scheduler.settled();
    expect(stack.web.for(jobId)).toHaveLength(1);
    expect((await statusOf(jobId)).error.code).toBe('llm_timeout');
  });

  it('simulate-llm feeds a given result, or generates one, through the callback path', async () => {
    await stack.start();
    const given = await submit();
    const generated = await submit();
    await stack.relay.http
      .post(`/simulate-llm/${given}`)
      .send({ ok: true, result: { score: 1 } })
      .expect(200, { job_id: given, status: 'accepted' });
    await stack.relay.http.post(`/simulate-llm/${generated}`).expect(200, { job_id: generated, status: 'accepted' });
    expect((await eventually(() => stack.web.for(given)[0], 'given delivery')).json.result).toEqual({ score: 1 });
    const made = (await eventually(() => stack.web.for(generated)[0], 'generated delivery')).json.result;
    expect(made).toMatchObject({ score: expect.any(Number), feedback: expect.any(String), model: 'simulated-llm' });
    await stack.relay.http
      .post(`/simulate-llm/${given}`)
      .send({ ok: true, result: { score: 0 } })
      .expect(409);
    await stack.relay.http.post('/simulate-llm/job_missing').expect(404);
  });

  it('simulate-llm is off when SIMULATION_ENABLED=false', async () => {
    await stack.start({ SIMULATION_ENABLED: 'false' });
    const jobId = await submit();
    const answer = await stack.relay.http.post(`/simulate-llm/${jobId}`).expect(404);
    expect(answer.body.code).toBe('simulation_disabled');
  });

  it('without LLM_API_URL the built-in simulated LLM completes the cycle', async () => {
    await stack.start({ LLM_API_URL: undefined });
    const jobId = await submit();
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery');
    expect(delivery.json).toMatchObject({ job_id: jobId, ok: true, result: { model: 'simulated-llm' } });
    const attempts = await stack.client.attempts(jobId);
    expect(attempts[0]).toMatchObject({ leg: 'forward', status_code: 202, outcome: 'success' });
  });
});
