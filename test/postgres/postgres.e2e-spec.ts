import { Webhook } from 'standardwebhooks';
import { callingBackLlm, eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { type RunningRelay } from '../support/relay';

(postgresReachable('the PostgreSQL suite') ? describe : describe.skip)(
  'on PostgreSQL (DATABASE_URL=postgres://…)',
  () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    const stack = useLoopbackStack({ llm: callingBackLlm(), relay: false, env: { CALLBACK_HMAC_SECRET: 'pg-secret' } });
    const relays: RunningRelay[] = [];

    beforeAll(async () => {
      database = await createTestDatabase();
    });
    // After the stack's own afterAll has closed the relays.
    afterAll(() => database?.drop());

    it('migrates and carries a job to a signed delivery', async () => {
      relays.push(await stack.start({ DATABASE_URL: database.url }));
      const jobId = await stack.client.submit();
      const delivery = await eventually(() => stack.web.for(jobId)[0], 'the delivery');
      expect(
        new Webhook(Buffer.from('pg-secret'), { format: 'raw' }).verify(
          delivery.body,
          delivery.headers as Record<string, string>,
        ),
      ).toMatchObject({
        job_id: jobId,
        ok: true,
      });
      const job = await eventually(async () => {
        const current = await stack.client.job(jobId);
        // The attempt row is written just after the status change: wait for both.
        return current.status === 'delivered' && current.delivery.last_status_code !== null && current;
      }, 'delivered');
      expect(job).toMatchObject({ ok: true, forward_attempts: 1, delivery: { attempts: 1, last_status_code: 200 } });
      expect(Date.parse(job.delivered_at)).toBeGreaterThanOrEqual(Date.parse(job.created_at));
    });

    it('lets two replicas share the database without sending anything twice', async () => {
      relays.push(await stack.startAnother({ DATABASE_URL: database.url }));
      const clients = relays.map((relay) => stack.clientFor(relay));
      const ids: string[] = [];
      for (let i = 0; i < 20; i += 1) ids.push(await clients[i % 2].submit({ submission_id: `pg-${i}` }));
      await eventually(async () => (await clients[0].total({ status: 'delivered' })) === 21, 'all delivered', 30_000);
      await Promise.all(relays.map((relay) => relay.scheduler.settled()));
      for (const id of ids) {
        expect(stack.llm.for(id)).toHaveLength(1);
        expect(stack.web.for(id)).toHaveLength(1);
      }
    });
  },
);
