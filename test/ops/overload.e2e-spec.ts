import { eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';

describe('intake past INTAKE_MAX_BACKLOG', () => {
  // The LLM refuses every forward for now (503, retried later): accepted jobs stay queued, so the backlog fills.
  const stack = useLoopbackStack({
    llm: () => ({ status: 503, headers: { 'retry-after': '3600' } }),
    env: { INTAKE_MAX_BACKLOG: '3' },
  });

  it('answers 503 with Retry-After once the backlog is full, counts it, and still serves the accepted jobs', async () => {
    const accepted: string[] = [];
    const refused = await eventually(async () => {
      const answer = await stack.client.submitAnswer();
      if (answer.status === 202) accepted.push(answer.body.job_id);
      return answer.status === 503 ? answer : null;
    }, 'a refusal');
    expect(accepted.length).toBeGreaterThanOrEqual(3);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.body).toMatchObject({
      statusCode: 503,
      code: 'backlog_full',
      message: expect.stringContaining('INTAKE_MAX_BACKLOG'),
    });
    expect(await stack.client.metrics()).toMatch(/relay_intake_rejected_total\{reason="backlog_full"\} [1-9]/);

    // Work already accepted still moves: a result for one of them is delivered while intake is refused.
    await stack.relay.http
      .post(`/simulate-llm/${accepted[0]}`)
      .send({ ok: true, result: { score: 1 } })
      .expect(200);
    await eventually(() => stack.web.for(accepted[0])[0], 'the delivery of an accepted job');
    expect(await stack.client.total({ status: 'queued' })).toBe(accepted.length - 1);
  });
});

describe('intake past INTAKE_MAX_EVENT_LOOP_DELAY_MS', () => {
  // The built-in simulated LLM, slowed down so that it never calls back during the test.
  const stack = useLoopbackStack({
    llm: false,
    env: { INTAKE_MAX_EVENT_LOOP_DELAY_MS: '100', SIMULATION_DELAY_MS: '600000' },
  });

  /** The relay runs in this process: holding the thread makes its event loop late, as a saturated relay's is. */
  const holdThread = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until);
  };

  it('refuses intake with 503 overloaded while the loop runs late, keeps answering callbacks, and admits again after', async () => {
    const waiting = await stack.client.submit();
    const refused = await eventually(async () => {
      holdThread(250);
      const answer = await stack.client.submitAnswer();
      return answer.status === 503 ? answer : null;
    }, 'a refusal while the loop is late');
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({
      statusCode: 503,
      code: 'overloaded',
      message: expect.stringContaining('INTAKE_MAX_EVENT_LOOP_DELAY_MS'),
    });

    // The LLM's side is not refused: a result for the accepted job is taken and delivered while the loop is late.
    holdThread(250);
    await stack.relay.http
      .post(`/simulate-llm/${waiting}`)
      .send({ ok: true, result: { score: 0.5 } })
      .expect(200);
    await eventually(() => stack.web.for(waiting)[0], 'the delivery of the accepted job');

    // Once the loop is on time again, intake admits again, and the refusals were counted.
    await eventually(async () => (await stack.client.submitAnswer()).status === 202, 'admitted again');
    expect(await stack.client.metrics()).toMatch(/relay_intake_rejected_total\{reason="overloaded"\} [1-9]/);
  });
});
