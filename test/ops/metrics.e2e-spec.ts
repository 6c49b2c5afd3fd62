import { DataSource } from 'typeorm';
import { closeAfterEach } from '../support/cleanup';
import { holdExpectedConsoleNoise, queryFailed } from '../support/console-noise';
import { callingBackLlm, FakeServer, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { metricValue as metric } from '../support/relay-client';

describe('GET /metrics', () => {
  // The receiver fails the first delivery once.
  const stack = useLoopbackStack({
    llm: callingBackLlm(),
    web: (_request, index) => ({ status: index === 0 ? 500 : 200 }),
  });
  const later = closeAfterEach();

  it('exposes job, attempt, callback and process metrics in Prometheus text, with bounded labels', async () => {
    const jobId = await stack.client.submit();
    await stack.client.waitForStatus(jobId, 'delivered');
    const callbackUrl = stack.llm.for(jobId)[0].json.callback_url as string;
    expect(
      (await postJson(callbackUrl, { ok: true, result: { score: 0.86, feedback: 'Good structure' } })).status,
    ).toBe(200);
    expect((await postJson(callbackUrl.replace(/token=[^&]+/, 'token=forged'), { ok: true })).status).toBe(401);
    expect((await postJson(callbackUrl, { ok: 'yes' })).status).toBe(400);
    expect((await postJson(callbackUrl, { ok: false })).status).toBe(409);
    // A job left pending: the LLM accepts it and never calls back, so no callback or delivery races the scrape.
    stack.llm.handler = () => ({ status: 202, body: { accepted: true } });
    await stack.client.submit({ webhook_url: 'http://127.0.0.1:9/pending' });

    const response = await stack.relay.http.get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.text;
    expect(metric(text, 'relay_jobs{status="delivered"}')).toBe(1);
    expect(metric(text, 'relay_jobs{status="delivery_failed"}')).toBe(0);
    expect(metric(text, 'relay_attempts_total{leg="forward",outcome="success"}')).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'relay_attempts_total{leg="delivery",outcome="retry"}')).toBe(1);
    expect(metric(text, 'relay_attempts_total{leg="delivery",outcome="success"}')).toBe(1);
    expect(metric(text, 'relay_attempt_duration_seconds_count{leg="delivery"}')).toBe(2);
    expect(metric(text, 'relay_callback_to_delivery_seconds_count')).toBe(1);
    expect(metric(text, 'relay_callbacks_total{result="accepted"}')).toBe(1);
    expect(metric(text, 'relay_callbacks_total{result="duplicate"}')).toBe(1);
    expect(metric(text, 'relay_callbacks_total{result="unauthorized"}')).toBe(1);
    expect(metric(text, 'relay_callbacks_total{result="invalid"}')).toBe(1);
    expect(metric(text, 'relay_callbacks_total{result="conflict"}')).toBe(1);
    expect(metric(text, 'relay_jobs{status="queued"}')! + metric(text, 'relay_jobs{status="processing"}')!).toBe(1);
    expect(metric(text, 'relay_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(metric(text, 'relay_deliveries_failed_total')).toBe(0);
    expect(metric(text, 'relay_ready')).toBe(1);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain(jobId);
    expect(text).not.toMatch(/http:\/\//);
  });

  it('counts deliveries that gave up in a counter that a redeliver cannot lower, unlike the relay_jobs gauge', async () => {
    stack.llm.handler = callingBackLlm();
    const gone = await FakeServer.start(() => ({ status: 410 }));
    later(() => gone.close());
    const own = await stack.startAnother();
    later(() => own.close());
    const jobId = await own.client.submit({ webhook_url: `${gone.url}/hook` });
    await own.client.waitForStatus(jobId, 'delivery_failed');
    const failed = await own.client.metrics();
    expect(metric(failed, 'relay_deliveries_failed_total')).toBe(1);
    expect(metric(failed, 'relay_jobs{status="delivery_failed"}')).toBe(1);

    gone.handler = () => ({ status: 200 });
    await own.http.post(`/v1/reviews/${jobId}/redeliver`).expect(202);
    await own.client.waitForStatus(jobId, 'delivered');
    const redelivered = await own.client.metrics();
    expect(metric(redelivered, 'relay_jobs{status="delivery_failed"}')).toBe(0);
    expect(metric(redelivered, 'relay_deliveries_failed_total')).toBe(1);
  });

  it('reports relay_ready 0 while draining and while the database does not answer, and still answers the scrape', async () => {
    // Once the test closes the database, every query fails, as intended, and TypeORM prints each one (closing the
    // relay too): those lines are held back until it has closed; any other line is still shown.
    later(holdExpectedConsoleNoise(queryFailed(/The database connection is not open/)));
    const own = await stack.startAnother();
    later(() => own.close());
    expect(metric((await own.http.get('/metrics').expect(200)).text, 'relay_ready')).toBe(1);
    await own.scheduler.beforeApplicationShutdown();
    const draining = (await own.http.get('/metrics').expect(200)).text;
    expect(metric(draining, 'relay_ready')).toBe(0);
    expect(metric(draining, 'relay_jobs{status="queued"}')).toBe(0);

    await own.app.get(DataSource).destroy();
    const noDatabase = (await own.http.get('/metrics').expect(200)).text;
    expect(metric(noDatabase, 'relay_ready')).toBe(0);
    expect(metric(noDatabase, 'relay_jobs{status="queued"}')).toBeUndefined();
    expect(metric(noDatabase, 'relay_oldest_pending_age_seconds')).toBeNaN();
  });
});
