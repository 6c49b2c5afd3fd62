import { eventually, postJson, type RecordedRequest } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { metricValue } from '../support/relay-client';
import { settled, settledPast } from '../support/scheduler';

const CANCEL_PATH = '/v1/reviews/{job_id}/cancel';

describe('cancellation', () => {
  // Fresh fakes for each test; each test starts the relay with its own settings.
  const stack = useLoopbackStack(
    { llm: (request) => (request.path.endsWith('/cancel') ? { status: 200 } : { status: 202 }), relay: false },
    'each',
  );

  /** Forwards the LLM accepted (not cancel notices). */
  const forwardsOf = (jobId: string) => stack.llm.for(jobId).filter((request) => !request.path.endsWith('/cancel'));
  const noticesOf = (jobId: string) =>
    stack.llm.requests.filter((request) => request.path === `/v1/reviews/${jobId}/cancel`);
  const get = (jobId: string) => stack.client.job(jobId);
  const submit = (submissionId = 'subm-1') => stack.client.submit({ submission_id: submissionId });
  const cancel = (jobId: string) => stack.relay.http.post(`/v1/reviews/${jobId}/cancel`);

  it('before the forward: the LLM never gets the job, and its place goes to the next one', async () => {
    await stack.start({ LLM_MAX_IN_FLIGHT: '1', LLM_CANCEL_PATH: CANCEL_PATH });
    const first = await submit('first');
    await eventually(() => forwardsOf(first)[0], 'the first forward');
    const second = await submit('second');
    const third = await submit('third');
    expect((await get(second)).status).toBe('queued');

    const answer = await cancel(second).expect(202);
    expect(answer.body).toEqual({ job_id: second, status: 'cancelled' });
    const cancelled = await get(second);
    expect(cancelled).toMatchObject({ status: 'cancelled', ok: null, forward_attempts: 0 });
    expect(Date.parse(cancelled.cancelled_at)).toBeGreaterThanOrEqual(Date.parse(cancelled.created_at));
    // Again: the same answer, nothing changes.
    expect((await cancel(second).expect(202)).body).toEqual({ job_id: second, status: 'cancelled' });
    expect((await get(second)).updated_at).toBe(cancelled.updated_at);

    // The first job's callback frees the slot: the third goes, the cancelled second never does.
    await postJson(forwardsOf(first)[0].json.callback_url, { ok: true, result: { score: 1 } });
    await eventually(() => forwardsOf(third)[0], 'the third forward');
    await eventually(() => stack.web.for(first)[0], 'the first delivery');
    expect(forwardsOf(second)).toHaveLength(0);
    // Never forwarded: no notice either.
    expect(noticesOf(second)).toHaveLength(0);
    expect(stack.web.for(second)).toHaveLength(0);
  });

  it('while the LLM works on it: the LLM is told, the slot is freed at once, and a late callback is acknowledged and dropped', async () => {
    await stack.start({
      LLM_MAX_IN_FLIGHT: '1',
      LLM_CANCEL_PATH: CANCEL_PATH,
      LLM_API_KEY: 'llm-key',
      // A one-minute tick: only the cancel's own kick can forward the next job this fast.
      SCHEDULER_INTERVAL_MS: '60000',
    });
    const busy = await submit('busy');
    const waiting = await submit('waiting');
    await stack.client.waitForStatus(busy, 'processing');
    await cancel(busy).expect(202);

    const notice = await eventually(() => noticesOf(busy)[0], 'the cancel notice');
    expect(notice.method).toBe('POST');
    expect(notice.json).toEqual({ job_id: busy, submission_id: 'busy' });
    expect(notice.headers.authorization).toBe('Bearer llm-key');
    await eventually(() => forwardsOf(waiting)[0], 'the next job, forwarded into the freed slot', 5_000);

    const attempts = await eventually(async () => {
      const items = await stack.client.attempts(busy);
      return items.some((item: any) => item.leg === 'cancel') && items;
    }, 'the notice in the timeline');
    expect(attempts.map((item: any) => [item.leg, item.outcome])).toEqual([
      ['forward', 'success'],
      ['cancel', 'success'],
    ]);
    expect(attempts[1]).toMatchObject({
      attempt_no: 1,
      round: null,
      status_code: 200,
      target: `${stack.llm.url}/v1/reviews/${busy}/cancel`,
    });

    const late = await postJson(forwardsOf(busy)[0].json.callback_url, { ok: true, result: { score: 0.2 } });
    expect(late).toEqual({ status: 200, json: { job_id: busy, status: 'cancelled' } });
    const job = await get(busy);
    expect(job).toMatchObject({ status: 'cancelled', ok: null, result: null });
    // A forged callback still gets nothing.
    const forged = await postJson(`${stack.relay.url}/v1/llm/callback/${busy}?token=forged`, { ok: true, result: 1 });
    expect(forged.status).toBe(401);
    // Whatever the relay would send by itself has gone once the scheduler settles (its tick is a minute: kicks only).
    await settled(stack.relay.app);
    expect(stack.web.for(busy)).toHaveLength(0);

    const metrics = await stack.client.metrics();
    expect(metrics).toMatch(/^relay_jobs\{status="cancelled"\} 1$/m);
    expect(metrics).toMatch(/^relay_callbacks_total\{result="cancelled"\} 1$/m);
    expect(metricValue(metrics, 'relay_llm_in_flight')).toBe(1);
  });

  it("retries the notice with the forward's policy, then stops at the LLM's final answer", async () => {
    const noticeAnswers = [503, 500, 404];
    stack.llm.handler = (request: RecordedRequest) => {
      if (!request.path.endsWith('/cancel')) return { status: 202 };
      return { status: noticeAnswers[noticesOf(request.path.split('/')[3]).length - 1] ?? 200 };
    };
    await stack.start({ LLM_CANCEL_PATH: CANCEL_PATH });
    const jobId = await submit();
    await stack.client.waitForStatus(jobId, 'processing');
    await cancel(jobId).expect(202);
    const attempts = await eventually(async () => {
      const items = await stack.client.attempts(jobId, 'cancel');
      return items.length === 3 && items;
    }, 'three notices');
    expect(attempts.map((item: any) => [item.attempt_no, item.status_code, item.outcome])).toEqual([
      [1, 503, 'retry'],
      [2, 500, 'retry'],
      [3, 404, 'failed'],
    ]);
    // A fourth notice would be due within 0.02 s · 2³ · 1.2 ≈ 0.1 s (FORWARD_BACKOFF_SECONDS of the fast settings).
    await settledPast(stack.relay.app, 300);
    expect(noticesOf(jobId)).toHaveLength(3);
  });

  it('during delivery: no further attempt is made once the cancel lands', async () => {
    stack.web.handler = () => ({ status: 500 });
    await stack.start({ CALLBACK_BACKOFF_SECONDS: '0.2', LLM_CANCEL_PATH: CANCEL_PATH });
    const jobId = await submit();
    await eventually(() => forwardsOf(jobId)[0], 'the forward');
    await postJson(forwardsOf(jobId)[0].json.callback_url, { ok: true, result: { score: 0.5 } });
    await eventually(() => stack.web.for(jobId).length >= 2, 'two failing deliveries');
    await cancel(jobId).expect(202);
    const job = await get(jobId);
    expect(job.status).toBe('cancelled');
    // Its result stays readable; the LLM had already answered, so it is not told.
    expect(job).toMatchObject({ ok: true, result: { score: 0.5 } });
    const deliveries = stack.web.for(jobId).length;
    // Past the longest wait before a next attempt (0.2 s · 2² · 1.2 ≈ 1 s after the third, CALLBACK_BACKOFF_SECONDS),
    // with a tick forced after it: an attempt the cancel failed to stop would have been made by then.
    await settledPast(stack.relay.app, 1_000);
    expect(stack.web.for(jobId).length).toBeLessThanOrEqual(deliveries + 1);
    expect(noticesOf(jobId)).toHaveLength(0);
    expect((await get(jobId)).status).toBe('cancelled');
  });

  it('refuses finished jobs with 409, unknown ones with 404, and a cancelled job cannot be redelivered', async () => {
    stack.llm.handler = (request) => {
      setTimeout(() => void postJson(request.json.callback_url, { ok: true, result: 1 }).catch(() => undefined), 5);
      return { status: 202 };
    };
    await stack.start();
    const delivered = await submit();
    await stack.client.waitForStatus(delivered, 'delivered');
    const refused = await cancel(delivered).expect(409);
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'job_finished' });
    expect(refused.body.message).toMatch(/delivered/);
    expect((await cancel('job_00000000000000000000000000000000').expect(404)).body.code).toBe('job_not_found');

    stack.llm.handler = () => ({ status: 202 });
    const withdrawn = await submit();
    await cancel(withdrawn).expect(202);
    expect((await stack.relay.http.post(`/v1/reviews/${withdrawn}/redeliver`).expect(409)).body.code).toBe(
      'job_not_finished',
    );
    const listed = (await stack.relay.http.get('/v1/reviews?status=cancelled').expect(200)).body.items;
    expect(listed.map((item: any) => item.job_id)).toEqual([withdrawn]);
  });
});
