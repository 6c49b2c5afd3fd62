import { closeAfterEach } from './cleanup';
import { eventually, postJson, type FakeHandler } from './fake-server';
import { startLoopbackStack } from './loopback-stack';

export interface ProgressTarget {
  database(): Promise<{ env: NodeJS.ProcessEnv; drop(): Promise<void> }>;
  /** Relays sharing the database (either may forward, and take the heartbeats); 1 unless given. */
  replicas?: number;
}

/**
 * An LLM server that sends progress every `everyMs` for jobs whose submission_id starts with "long" (`beats` times),
 * then calls back ok; it never answers the others. Its timers stop with the test.
 */
function heartbeatingLlm(everyMs: number, beats: number, later: (close: () => unknown) => void): FakeHandler {
  return (request) => {
    if (request.method !== 'POST' || !request.json?.progress_url) return { status: 200 };
    const { progress_url: progressUrl, callback_url: callbackUrl, submission_id: submission } = request.json;
    if (String(submission).startsWith('long')) {
      let sent = 0;
      const timer = setInterval(() => {
        sent += 1;
        if (sent <= beats) {
          void postJson(progressUrl, { progress: sent / beats, stage: `step ${sent}` }).catch(() => undefined);
        } else {
          clearInterval(timer);
          void postJson(callbackUrl, { ok: true, result: { score: 1 } }).catch(() => undefined);
        }
      }, everyMs);
      later(() => clearInterval(timer));
    }
    return { status: 202 };
  };
}

/** Progress keeps a long job alive; without it the deadline holds; the route's refusals. */
export function describeProgress(target: ProgressTarget): void {
  const later = closeAfterEach();

  async function open(env: NodeJS.ProcessEnv, everyMs: number, beats: number) {
    const database = await target.database();
    later(() => database.drop());
    const stack = await startLoopbackStack({
      llm: heartbeatingLlm(everyMs, beats, later),
      env: { ...database.env, ...env },
    });
    later(() => stack.close());
    for (let i = 1; i < (target.replicas ?? 1); i += 1) await stack.startAnother();
    return stack;
  }

  it('keeps a job with a 3-second deadline alive for 6 seconds by progress every second; one without is llm_timeout', async () => {
    const stack = await open({ LLM_CALLBACK_TIMEOUT_SECONDS: '3' }, 1_000, 6);
    const long = await stack.client.submit({ submission_id: 'long-1' });
    const silent = await stack.client.submit({ submission_id: 'silent-1' });
    const timedOut = await stack.client.waitForStatus(silent, ['delivered', 'delivery_failed'], 10_000);
    expect(timedOut).toMatchObject({ ok: false, error: { code: 'llm_timeout' } });
    // By then (past 3 s) the long job is still processing, its deadline moved on.
    const midway = await stack.client.job(long);
    expect(midway.status).toBe('processing');
    expect(midway.progress).toMatchObject({
      stage: expect.stringMatching(/^step \d$/),
      heartbeats: expect.any(Number),
    });
    const done = await stack.client.waitForStatus(long, 'delivered', 15_000);
    expect(done).toMatchObject({ ok: true, result: { score: 1 } });
    expect(done.progress).toMatchObject({ value: 1, stage: 'step 6', heartbeats: 6 });
    expect(Date.parse(done.completed_at) - Date.parse(done.forwarded_at)).toBeGreaterThan(5_000);
    // A heartbeat for a finished job changes nothing.
    const forward = stack.llm.for(long)[0].json;
    const late = await postJson(forward.progress_url, { progress: 0.5 });
    expect([late.status, late.json]).toEqual([200, { job_id: long, status: 'delivered' }]);
    expect((await stack.client.job(long)).progress.heartbeats).toBe(6);
  }, 30_000);

  it('never moves the deadline past LLM_JOB_MAX_SECONDS after the forward', async () => {
    const stack = await open({ LLM_CALLBACK_TIMEOUT_SECONDS: '2', LLM_JOB_MAX_SECONDS: '4' }, 700, 20);
    const long = await stack.client.submit({ submission_id: 'long-capped' });
    const job = await stack.client.waitForStatus(long, ['delivered', 'delivery_failed'], 15_000);
    expect(job).toMatchObject({ ok: false, error: { code: 'llm_timeout' } });
    const lasted = Date.parse(job.completed_at) - Date.parse(job.forwarded_at);
    expect(lasted).toBeGreaterThanOrEqual(4_000);
    expect(lasted).toBeLessThan(7_000);
    expect(job.progress.heartbeats).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('refuses a forged credential (401), a bad body (400) and an unknown job (404), and changes nothing', async () => {
    const stack = await open({ LLM_CALLBACK_TIMEOUT_SECONDS: '60' }, 60_000, 1);
    const id = await stack.client.submit({ submission_id: 'silent-2' });
    await stack.client.waitForStatus(id, 'processing');
    const url = new URL(stack.llm.for(id)[0].json.progress_url);
    const token = url.searchParams.get('token')!;
    const forged = new URL(url);
    forged.searchParams.set('token', 'forged-token');
    expect((await postJson(forged.href, { progress: 0.1 })).status).toBe(401);
    expect((await postJson(`${url.origin}${url.pathname}`, {})).status).toBe(401);
    for (const body of [
      { progress: 2 },
      { progress: 'half' },
      { stage: 'x'.repeat(101) },
      { message: 5 },
      { eta: 3 },
    ]) {
      const answer = await postJson(url.href, body);
      expect([answer.status, answer.json.code]).toEqual([400, 'validation_failed']);
    }
    const unknown = await postJson(`${url.origin}/v1/llm/progress/job_${'0'.repeat(32)}?token=${token}`, {});
    expect(unknown.status).toBe(404);
    expect((await stack.client.job(id)).progress).toBeNull();
    // The Bearer form works like the query token.
    const bearer = await postJson(
      `${url.origin}${url.pathname}`,
      { message: 'still here' },
      { authorization: `Bearer ${token}` },
    );
    expect([bearer.status, bearer.json]).toEqual([202, { job_id: id, status: 'processing' }]);
    await eventually(async () => (await stack.client.job(id)).progress?.message === 'still here', 'the progress');
  });
}
