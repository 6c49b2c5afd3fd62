import { Webhook } from 'standardwebhooks';
import { callingBackLlm, eventually, FakeServer } from '../support/fake-server';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { reviewBody, RunningRelay, startRelay } from '../support/relay';

(postgresReachable('the PostgreSQL suite') ? describe : describe.skip)('on PostgreSQL (DATABASE_URL=postgres://…)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let llm: FakeServer;
  let web: FakeServer;
  const relays: RunningRelay[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    llm = await FakeServer.start(callingBackLlm());
    web = await FakeServer.start();
  });

  afterAll(async () => {
    for (const relay of relays) await relay.close();
    await llm.close();
    await web.close();
    await database?.drop();
  });

  it('migrates and carries a job to a signed delivery', async () => {
    relays.push(await startRelay({ DATABASE_URL: database.url, LLM_API_URL: llm.url, CALLBACK_HMAC_SECRET: 'pg-secret' }));
    const relay = relays[0];
    const jobId = (await relay.http.post('/v1/reviews').send(reviewBody(`${web.url}/hook`)).expect(202)).body.job_id;
    const delivery = await eventually(() => web.for(jobId)[0], 'the delivery');
    expect(new Webhook(Buffer.from('pg-secret'), { format: 'raw' }).verify(delivery.body, delivery.headers as Record<string, string>)).toMatchObject({
      job_id: jobId,
      ok: true,
    });
    const job = await eventually(async () => {
      const current = (await relay.http.get(`/v1/reviews/${jobId}`)).body;
      // The attempt row is written just after the status change: wait for both.
      return current.status === 'delivered' && current.delivery.last_status_code !== null && current;
    }, 'delivered');
    expect(job).toMatchObject({ ok: true, forward_attempts: 1, delivery: { attempts: 1, last_status_code: 200 } });
    expect(Date.parse(job.delivered_at)).toBeGreaterThanOrEqual(Date.parse(job.created_at));
  });

  it('lets two replicas share the database without sending anything twice', async () => {
    relays.push(await startRelay({ DATABASE_URL: database.url, LLM_API_URL: llm.url, CALLBACK_HMAC_SECRET: 'pg-secret' }));
    const [first, second] = relays;
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const relay = i % 2 === 0 ? first : second;
      ids.push((await relay.http.post('/v1/reviews').send(reviewBody(`${web.url}/hook`, { submission_id: `pg-${i}` })).expect(202)).body.job_id);
    }
    await eventually(async () => (await first.http.get('/v1/reviews').query({ status: 'delivered', limit: 100, include_total: 'true' })).body.total === 21, 'all delivered', 30_000);
    await Promise.all(relays.map((relay) => relay.scheduler.settled()));
    for (const id of ids) {
      expect(llm.for(id)).toHaveLength(1);
      expect(web.for(id)).toHaveLength(1);
    }
  });
});
