import { DataSource } from 'typeorm';
import { MAX_ATTEMPTS_SCANNED } from '../../src/reviews/review-summary.service';
import { eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';

const MINUTE = 60_000;

describe('GET /v1/reviews/summary', () => {
  // The receiver refuses deliveries to /fail…, and gives up on them at once (no retries).
  const stack = useLoopbackStack({
    web: (request) => ({ status: request.path.startsWith('/fail') ? 500 : 200 }),
    env: { CALLBACK_MAX_RETRIES: '0' },
  });

  const submit = (submissionId: string, hook = 'ok') =>
    stack.client.submit({ submission_id: submissionId, webhook_url: `${stack.web.url}/${hook}` });
  const until = (jobId: string, wanted: string) => stack.client.waitForStatus(jobId, wanted);
  const summary = async () => (await stack.relay.http.get('/v1/reviews/summary').expect(200)).body;
  const sum = (
    minutes: { delivered: number; failed: number; gave_up: number }[],
    field: 'delivered' | 'failed' | 'gave_up',
  ) => minutes.reduce((total, minute) => total + minute[field], 0);

  it('counts jobs by status, the LLM queue, the oldest pending job and the last hour of deliveries', async () => {
    const empty = await summary();
    expect(empty.counts).toEqual({
      queued: 0,
      processing: 0,
      delivering: 0,
      delivered: 0,
      delivery_failed: 0,
      cancelled: 0,
    });
    expect(empty).toMatchObject({
      llm_waiting: 0,
      llm_in_flight: 0,
      llm_max_in_flight: 0,
      oldest_pending_age_seconds: null,
      partial_before: null,
      simulation_enabled: true,
    });
    expect(empty.deliveries_per_minute).toHaveLength(60);

    const delivered = [await submit('s-1'), await submit('s-2')];
    const failed = await submit('s-3', 'fail');
    const waiting = await submit('s-4');
    const cancelled = await submit('s-5');
    for (const jobId of [...delivered, failed, waiting, cancelled]) await until(jobId, 'processing');
    await stack.relay.http.post(`/v1/reviews/${cancelled}/cancel`).expect(202);
    for (const jobId of [...delivered, failed]) await stack.relay.http.post(`/simulate-llm/${jobId}`).expect(200);
    for (const jobId of delivered) await until(jobId, 'delivered');
    await until(failed, 'delivery_failed');

    // An attempt's row is written just after the status change: wait for the rows too.
    const body = await eventually(async () => {
      const current = await summary();
      return (
        sum(current.deliveries_per_minute, 'delivered') === 2 &&
        sum(current.deliveries_per_minute, 'failed') === 1 &&
        current
      );
    }, 'the attempt rows');
    expect(body.counts).toEqual({
      queued: 0,
      processing: 1,
      delivering: 0,
      delivered: 2,
      delivery_failed: 1,
      cancelled: 1,
    });
    expect(body.llm_waiting).toBe(0);
    expect(body.llm_in_flight).toBe(1);
    expect(body.oldest_pending_age_seconds).toBeGreaterThanOrEqual(0);
    expect(body.oldest_pending_age_seconds).toBeLessThan(60);
    expect(sum(body.deliveries_per_minute, 'delivered')).toBe(2);
    expect(sum(body.deliveries_per_minute, 'failed')).toBe(1);
    expect(sum(body.deliveries_per_minute, 'gave_up')).toBe(1);
    const minutes = body.deliveries_per_minute.map((m: { minute: string }) => Date.parse(m.minute));
    expect(
      minutes.every((t: number, i: number) => t % MINUTE === 0 && (i === 0 || t - minutes[i - 1] === MINUTE)),
    ).toBe(true);
    expect(Date.parse(body.generated_at) - minutes[59]).toBeLessThan(MINUTE);
    expect(body.attempts_scanned).toBeGreaterThanOrEqual(3 + 5);
  });

  it('puts older attempts in their minute and leaves out those before the hour', async () => {
    const jobId = await submit('s-history');
    const db = stack.relay.app.get(DataSource);
    const now = Date.now();
    const insert = (startedAt: number, outcome: string, leg = 'delivery') =>
      db.query(
        'INSERT INTO delivery_attempts (job_id, leg, attempt_no, target, status_code, outcome, error, duration_ms, started_at) VALUES (?, ?, 1, ?, 200, ?, NULL, 5, ?)',
        [jobId, leg, `${stack.web.url}/ok`, outcome, startedAt],
      );
    const before = await summary();
    await insert(now - 30 * MINUTE, 'success');
    await insert(now - 30 * MINUTE, 'retry');
    await insert(now - 30 * MINUTE, 'success', 'forward');
    await insert(now - 2 * 60 * MINUTE, 'success');
    await insert(now - 61 * MINUTE, 'failed');
    const after = await summary();
    expect(sum(after.deliveries_per_minute, 'delivered')).toBe(sum(before.deliveries_per_minute, 'delivered') + 1);
    expect(sum(after.deliveries_per_minute, 'failed')).toBe(sum(before.deliveries_per_minute, 'failed') + 1);
    const minute = Math.floor((now - 30 * MINUTE) / MINUTE) * MINUTE;
    const bucket = after.deliveries_per_minute.find((m: { minute: string }) => Date.parse(m.minute) === minute);
    expect(bucket).toMatchObject({ delivered: 1, failed: 1, gave_up: 0 });
  });

  it(`reads at most ${MAX_ATTEMPTS_SCANNED} attempts, and says from when the hour is complete`, async () => {
    const jobId = await submit('s-busy');
    await until(jobId, 'processing');
    const db = stack.relay.app.get(DataSource);
    const start = Date.now() - 50 * MINUTE;
    // An hour busier than one summary reads: spread over 50 minutes, oldest first (ids grow with time).
    await db.query(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${MAX_ATTEMPTS_SCANNED + 999})
       INSERT INTO delivery_attempts (job_id, leg, attempt_no, target, status_code, outcome, error, duration_ms, started_at)
       SELECT ?, 'delivery', 1, 'http://receiver.example/hook', 200, 'success', NULL, 1, ? + i * 50 FROM n`,
      [jobId, start],
    );
    const body = await summary();
    expect(body.attempts_scanned).toBe(MAX_ATTEMPTS_SCANNED);
    expect(Date.parse(body.partial_before)).toBeGreaterThan(start);
    expect(sum(body.deliveries_per_minute, 'delivered')).toBe(MAX_ATTEMPTS_SCANNED);
  });

  it('needs an API key like the other /v1/reviews routes', async () => {
    const closed = await stack.startAnother({ RELAY_API_KEYS: 'summary-key' });
    await closed.http.get('/v1/reviews/summary').expect(401);
    await closed.http.get('/v1/reviews/summary').set('X-API-Key', 'wrong').expect(401);
    await closed.http.get('/v1/reviews/summary').set('X-API-Key', 'summary-key').expect(200);
  });
});
