import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { callingBackLlm, eventually, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';

describe('a review job end to end (SQLite, loopback LLM and web service)', () => {
  const stack = useLoopbackStack(
    { llm: callingBackLlm(), env: { LLM_API_KEY: 'llm-key-123', CALLBACK_HMAC_SECRET: 'test-secret' } },
    'each',
  );

  /** Intake's answer is checked on every submission here. */
  async function submit(overrides: Record<string, unknown> = {}): Promise<string> {
    const answer = await stack.client.submitAnswer(overrides);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ job_id: expect.stringMatching(/^job_[0-9a-f]{32}$/), status: 'queued' });
    return answer.body.job_id;
  }

  it('forwards, takes the callback and delivers a signed result once', async () => {
    const jobId = await submit();
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery');

    const forward = stack.llm.for(jobId)[0];
    expect(forward.path).toBe('/v1/reviews');
    expect(forward.headers.authorization).toBe('Bearer llm-key-123');
    expect(forward.json).toMatchObject({
      job_id: jobId,
      submission_id: 'subm-001',
      student_id: 'stu-42',
      file_refs: [{ url: 'https://files.example.com/1.pdf' }],
      metadata: { course: 'ML-101' },
    });
    expect(forward.json.callback_url).toBe(
      `${stack.relay.url.replace('127.0.0.1', 'localhost')}/v1/llm/callback/${jobId}?token=${forward.json.callback_token}`,
    );
    expect(forward.json.callback_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect(JSON.parse(delivery.body)).toEqual({
      job_id: jobId,
      submission_id: 'subm-001',
      ok: true,
      result: { score: 0.86, feedback: 'Good structure' },
    });
    const hex = createHmac('sha256', 'test-secret').update(delivery.body).digest('hex');
    expect(delivery.headers['x-signature']).toBe(`sha256=${hex}`);
    const verifier = new Webhook(Buffer.from('test-secret'), { format: 'raw' });
    expect(verifier.verify(delivery.body, delivery.headers as Record<string, string>)).toMatchObject({ job_id: jobId });

    const job = await stack.client.waitForStatus(jobId, 'delivered');
    expect(job).toMatchObject({ ok: true, result: { score: 0.86 }, error: null, forward_attempts: 1 });
    expect(job.delivery).toMatchObject({
      attempts: 1,
      last_status_code: 200,
      webhook_id: delivery.headers['webhook-id'],
    });
    expect(JSON.stringify(job)).not.toContain(forward.json.callback_token);

    const attempts = await stack.relay.http.get(`/v1/reviews/${jobId}/attempts`).expect(200);
    expect(attempts.body.items.map((a: any) => [a.leg, a.attempt_no, a.status_code, a.outcome])).toEqual([
      ['forward', 1, 202, 'success'],
      ['delivery', 1, 200, 'success'],
    ]);
    await stack.relay.scheduler.settled();
    expect(stack.web.for(jobId)).toHaveLength(1);
  });

  it('accepts a callback that arrives before the LLM has answered the forward', async () => {
    stack.llm.handler = async (request) => {
      const answer = await postJson(request.json.callback_url, { ok: true, result: { fast: true } });
      expect(answer.status).toBe(200);
      return { status: 202 };
    };
    const jobId = await submit();
    await eventually(() => stack.web.for(jobId)[0], 'the delivery');
    await stack.client.waitForStatus(jobId, 'delivered');
    expect(JSON.parse(stack.web.for(jobId)[0].body).result).toEqual({ fast: true });
    await stack.relay.scheduler.settled();
    expect(stack.web.for(jobId)).toHaveLength(1);
  });

  it('takes the credential as a Bearer header too', async () => {
    stack.llm.handler = () => ({ status: 202 });
    const jobId = await submit();
    const forward = await eventually(() => stack.llm.for(jobId)[0], 'the forward');
    const answer = await postJson(
      `${stack.relay.url}/v1/llm/callback/${jobId}`,
      { ok: true, result: 'fine' },
      {
        authorization: `Bearer ${forward.json.callback_token}`,
      },
    );
    expect(answer).toEqual({ status: 200, json: { job_id: jobId, status: 'accepted' } });
    await eventually(() => stack.web.for(jobId)[0], 'the delivery');
  });

  it('refuses forged callbacks and changes nothing', async () => {
    stack.llm.handler = () => ({ status: 202 });
    const jobId = await submit();
    const otherId = await submit({ submission_id: 'other' });
    const forward = await eventually(() => stack.llm.for(jobId)[0], 'the forward');
    const other = await eventually(() => stack.llm.for(otherId)[0], 'the other forward');
    await stack.client.waitForStatus(jobId, 'processing');

    const base = `${stack.relay.url}/v1/llm/callback/${jobId}`;
    const forged = [
      await postJson(base, { ok: true, result: 'x' }),
      await postJson(`${base}?token=wrong`, { ok: true, result: 'x' }),
      await postJson(`${base}?token=${'A'.repeat(5000)}`, { ok: true, result: 'x' }),
      await postJson(`${base}?token=${other.json.callback_token}`, { ok: true, result: 'x' }),
      await postJson(base, { ok: true, result: 'x' }, { authorization: 'Bearer nope' }),
    ];
    for (const answer of forged) {
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ statusCode: 401, code: 'invalid_callback_token' });
    }
    const unknown = await postJson(
      `${stack.relay.url}/v1/llm/callback/job_unknown?token=${forward.json.callback_token}`,
      { ok: true },
    );
    expect(unknown).toMatchObject({ status: 404, json: { code: 'job_not_found' } });

    const job = (await stack.relay.http.get(`/v1/reviews/${jobId}`).expect(200)).body;
    expect(job).toMatchObject({ status: 'processing', ok: null, result: null });
    expect(stack.web.requests).toHaveLength(0);
  });

  it('treats a repeated result as a no-op and a different one as a conflict, delivering once', async () => {
    stack.llm.handler = () => ({ status: 202 });
    const jobId = await submit();
    const forward = await eventually(() => stack.llm.for(jobId)[0], 'the forward');
    const callbackUrl = forward.json.callback_url;
    const result = { score: 0.5, notes: ['a', 'b'] };

    const answers = await Promise.all([1, 2, 3, 4].map(() => postJson(callbackUrl, { ok: true, result })));
    expect(answers.map((a) => a.json.status).sort()).toEqual(['accepted', 'duplicate', 'duplicate', 'duplicate']);
    expect((await postJson(callbackUrl, { result: { notes: ['a', 'b'], score: 0.5 }, ok: true })).json.status).toBe(
      'duplicate',
    );
    const conflict = await postJson(callbackUrl, { ok: true, result: { score: 0.1 } });
    expect(conflict).toMatchObject({ status: 409, json: { code: 'result_already_recorded' } });

    await stack.client.waitForStatus(jobId, 'delivered');
    expect((await postJson(callbackUrl, { ok: true, result })).json.status).toBe('duplicate');
    await stack.relay.scheduler.settled();
    expect(stack.web.for(jobId)).toHaveLength(1);
    expect(JSON.parse(stack.web.for(jobId)[0].body).result).toEqual(result);
  });

  it('delivers an LLM failure as ok:false with llm_error', async () => {
    stack.llm.handler = (request) => {
      setTimeout(
        () =>
          void postJson(request.json.callback_url, { ok: false, error: { code: 'bad_pdf', message: 'unreadable' } }),
        5,
      );
      return { status: 202 };
    };
    const jobId = await submit();
    const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery');
    expect(delivery.json).toEqual({
      job_id: jobId,
      submission_id: 'subm-001',
      ok: false,
      result: null,
      error: { code: 'llm_error', message: 'bad_pdf: unreadable' },
    });
  });
});
