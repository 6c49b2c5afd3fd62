import { callingBackLlm, eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { createTestDatabase, postgresReachable } from '../support/postgres';

(postgresReachable('the PostgreSQL summary suite') ? describe : describe.skip)(
  'GET /v1/reviews/summary on PostgreSQL',
  () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    const stack = useLoopbackStack({
      llm: callingBackLlm(),
      web: (request) => ({ status: request.path === '/fail' ? 500 : 200 }),
      relay: false,
    });

    beforeAll(async () => {
      database = await createTestDatabase();
      await stack.start({ DATABASE_URL: database.url, CALLBACK_MAX_RETRIES: '0' });
    });
    // After the stack's own afterAll has closed the relay.
    afterAll(() => database?.drop());

    it('counts by status and per minute from the same statements as on SQLite', async () => {
      const submit = (hook: string) => stack.client.submit({ webhook_url: `${stack.web.url}/${hook}` });
      const jobs = [await submit('ok'), await submit('ok'), await submit('fail')];
      const statusOf = async (jobId: string) => (await stack.client.job(jobId)).status;
      await eventually(
        async () => (await statusOf(jobs[0])) === 'delivered' && (await statusOf(jobs[1])) === 'delivered',
        'two deliveries',
      );
      await eventually(async () => (await statusOf(jobs[2])) === 'delivery_failed', 'a failed delivery');

      const total = (summary: { deliveries_per_minute: Record<string, number>[] }, field: string) =>
        summary.deliveries_per_minute.reduce((sum, minute) => sum + minute[field], 0);
      // An attempt's row is written just after the status change: wait for the rows too.
      const body = await eventually(async () => {
        const summary = (await stack.relay.http.get('/v1/reviews/summary').expect(200)).body;
        return total(summary, 'delivered') === 2 && total(summary, 'failed') === 1 && summary;
      }, 'the attempt rows');
      expect(body.counts).toEqual({
        queued: 0,
        processing: 0,
        delivering: 0,
        delivered: 2,
        delivery_failed: 1,
        cancelled: 0,
      });
      expect(body).toMatchObject({
        llm_waiting: 0,
        llm_in_flight: 0,
        oldest_pending_age_seconds: null,
        partial_before: null,
      });
      expect(total(body, 'gave_up')).toBe(1);
      expect(body.attempts_scanned).toBe(6);
    });
  },
);
