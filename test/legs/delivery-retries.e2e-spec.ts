import { callingBackLlm, eventually, FakeServer } from '../support/fake-server';
import { closeAfterEach } from '../support/cleanup';
import { useLoopbackStack } from '../support/loopback-stack';
import { metricValue } from '../support/relay-client';

describe('delivery to the web service: retries, give-up and redeliver', () => {
  const stack = useLoopbackStack({ llm: callingBackLlm(), relay: false }, 'each');
  const later = closeAfterEach();

  async function submitAndWait(status: string): Promise<any> {
    return stack.client.waitForStatus(await stack.client.submit(), status);
  }

  it('retries after 5xx and network-level failures until a 2xx, with one webhook-id', async () => {
    await stack.start();
    stack.web.handler = (_request, index) => (index < 2 ? { status: index === 0 ? 500 : 503 } : { status: 204 });
    const job = await submitAndWait('delivered');
    const deliveries = stack.web.for(job.job_id);
    expect(deliveries).toHaveLength(3);
    expect(new Set(deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
    expect(deliveries.every((d) => d.body === deliveries[0].body)).toBe(true);
    expect(job.delivery).toMatchObject({ attempts: 3, last_status_code: 204 });
    const attempts = await stack.client.attempts(job.job_id, 'delivery');
    expect(attempts.map((a: any) => [a.attempt_no, a.status_code, a.outcome])).toEqual([
      [1, 500, 'retry'],
      [2, 503, 'retry'],
      [3, 204, 'success'],
    ]);
  });

  it('gives up after CALLBACK_MAX_RETRIES, then redeliver sends it again', async () => {
    await stack.start({ CALLBACK_MAX_RETRIES: '2' });
    stack.web.handler = () => ({ status: 500 });
    const failed = await submitAndWait('delivery_failed');
    expect(stack.web.for(failed.job_id)).toHaveLength(3);
    expect(failed.delivery).toMatchObject({ attempts: 3, last_status_code: 500, next_attempt_at: null });
    const listed = await stack.relay.http.get('/v1/reviews').query({ status: 'delivery_failed' }).expect(200);
    expect(listed.body.items.map((j: any) => j.job_id)).toEqual([failed.job_id]);

    stack.web.handler = () => ({ status: 200 });
    const requeued = await stack.relay.http.post(`/v1/reviews/${failed.job_id}/redeliver`).expect(202);
    expect(requeued.body).toEqual({ job_id: failed.job_id, status: 'delivering' });
    const delivered = await stack.client.waitForStatus(failed.job_id, 'delivered');
    expect(stack.web.for(failed.job_id)).toHaveLength(4);
    expect(new Set(stack.web.for(failed.job_id).map((d) => d.headers['webhook-id'])).size).toBe(1);
    expect(delivered.delivery).toMatchObject({ attempts: 4, rounds: 2 });
  });

  it('numbers attempts on across redelivery rounds, gives each round its full retry budget, and times only first deliveries', async () => {
    await stack.start({ CALLBACK_MAX_RETRIES: '2' });
    stack.web.handler = () => ({ status: 503 });
    const jobId = (await submitAndWait('delivery_failed')).job_id;
    const redeliverUntil = async (status: string, received: number) => {
      await stack.relay.http.post(`/v1/reviews/${jobId}/redeliver`).expect(202);
      await eventually(() => stack.web.for(jobId).length === received, `${received} deliveries received`);
      return stack.client.waitForStatus(jobId, status);
    };

    const secondRound = await redeliverUntil('delivery_failed', 6);
    expect(secondRound.delivery).toMatchObject({ attempts: 6, rounds: 2, last_status_code: 503 });
    stack.web.handler = () => ({ status: 204 });
    const thirdRound = await redeliverUntil('delivered', 7);
    expect(thirdRound.delivery).toMatchObject({ attempts: 7, rounds: 3, last_status_code: 204 });
    expect(stack.web.for(jobId)).toHaveLength(7);

    const attempts = await stack.client.attempts(jobId);
    expect(
      attempts.filter((a: any) => a.leg === 'delivery').map((a: any) => [a.attempt_no, a.round, a.outcome]),
    ).toEqual([
      [1, 1, 'retry'],
      [2, 1, 'retry'],
      [3, 1, 'failed'],
      [4, 2, 'retry'],
      [5, 2, 'retry'],
      [6, 2, 'failed'],
      [7, 3, 'success'],
    ]);
    expect(attempts.filter((a: any) => a.leg === 'forward').map((a: any) => [a.attempt_no, a.round])).toEqual([
      [1, null],
    ]);

    const metrics = await stack.client.metrics();
    expect(metricValue(metrics, 'relay_callback_to_delivery_seconds_count')).toBe(0);
    expect(metricValue(metrics, 'relay_deliveries_failed_total')).toBe(2);
    expect(metricValue(metrics, 'relay_attempts_total{leg="delivery",outcome="success"}')).toBe(1);
  });

  it('refuses to redeliver a job that is not finished, and 404s an unknown one', async () => {
    await stack.start();
    stack.llm.handler = () => ({ status: 202 });
    const jobId = await stack.client.submit();
    const conflict = await stack.relay.http.post(`/v1/reviews/${jobId}/redeliver`).expect(409);
    expect(conflict.body).toMatchObject({ code: 'job_not_finished' });
    await stack.relay.http.post('/v1/reviews/job_nope/redeliver').expect(404);
  });

  it('stops at once on 410 Gone', async () => {
    await stack.start();
    stack.web.handler = () => ({ status: 410 });
    const job = await submitAndWait('delivery_failed');
    expect(stack.web.for(job.job_id)).toHaveLength(1);
  });

  it('treats 3xx as a failure and never follows it', async () => {
    const elsewhere = await FakeServer.start();
    later(() => elsewhere.close());
    await stack.start({ CALLBACK_MAX_RETRIES: '1' });
    stack.web.handler = () => ({ status: 301, headers: { location: `${elsewhere.url}/stolen` } });
    const job = await submitAndWait('delivery_failed');
    expect(stack.web.for(job.job_id)).toHaveLength(2);
    expect(job.delivery.last_status_code).toBe(301);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('honours Retry-After on 429', async () => {
    await stack.start();
    stack.web.handler = (_request, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 };
    const job = await submitAndWait('delivered');
    const [first, second] = stack.web.for(job.job_id);
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up on a receiver that hangs past the deadline, counting each attempt', async () => {
    await stack.start({ CALLBACK_MAX_RETRIES: '1', OUTBOUND_TIMEOUT_SECONDS: '0.3' });
    stack.web.handler = () => ({ hang: true });
    const job = await submitAndWait('delivery_failed');
    expect(stack.web.for(job.job_id)).toHaveLength(2);
    const attempts = await stack.client.attempts(job.job_id, 'delivery');
    expect(attempts.map((a: any) => a.error)).toEqual(['deadline exceeded', 'deadline exceeded']);
    expect(attempts.every((a: any) => a.duration_ms < 2000)).toBe(true);
  });
});
