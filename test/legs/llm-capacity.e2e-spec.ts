import { DataSource } from 'typeorm';
import { nowMsSql } from '../../src/database/dialect';
import { ClaimsRepository } from '../../src/jobs/claims.repository';
import { capacityLlm } from '../support/capacity-llm';
import { closeAfterEach } from '../support/cleanup';
import { eventually } from '../support/fake-server';
import { startLoopbackStack, useLoopbackStack } from '../support/loopback-stack';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { startRelay } from '../support/relay';
import { metricValue, type RelayClient } from '../support/relay-client';

async function submitMany(clients: RelayClient[], count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push(await clients[i % clients.length].submit({ submission_id: `cap-${i}` }));
  return ids;
}

describe('LLM_MAX_IN_FLIGHT and the LLM pause', () => {
  // Each test gives the fake LLM its handler, then starts the relay.
  const stack = useLoopbackStack({ relay: false }, 'each');

  it('never has more jobs at the LLM than the limit, forwards the oldest first, and starts each deadline at its forward', async () => {
    const capacity = capacityLlm(3, 250);
    stack.llm.handler = capacity.handler;
    // 18 jobs, 3 at a time, 250 ms each: about 1.5 s in all, longer than the callback deadline. A deadline counted
    // from intake would expire the later ones; counted from the forward, every job is delivered with its result.
    const relay = await stack.start({ LLM_MAX_IN_FLIGHT: '3', LLM_CALLBACK_TIMEOUT_SECONDS: '1' });
    const ids = await submitMany([stack.client], 18);

    const last = (await relay.http.get(`/v1/reviews/${ids[17]}`).expect(200)).body;
    expect(last.status).toBe('queued');
    expect(last.queue_position).toBeGreaterThan(1);
    const metrics = await stack.client.metrics();
    expect(metricValue(metrics, 'relay_llm_in_flight')).toBeLessThanOrEqual(3);
    expect(metricValue(metrics, 'relay_llm_waiting')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'relay_llm_max_in_flight')).toBe(3);

    await eventually(() => ids.every((id) => stack.web.for(id).length > 0), 'every delivery', 20_000);
    for (const id of ids) expect(stack.web.for(id)[0].json).toMatchObject({ ok: true, result: { score: 0.5 } });
    expect(capacity.state.peak).toBe(3);
    expect(capacity.state.refused).toBe(0);
    // Oldest first: jobs were submitted one after another, so each is forwarded within the few that free up together
    // (the forwards of one claim race each other to the LLM), never after a younger job further along.
    expect([...capacity.state.accepted].sort()).toEqual([...ids].sort());
    ids.forEach((id, intakeOrder) =>
      expect(Math.abs(capacity.state.accepted.indexOf(id) - intakeOrder)).toBeLessThan(3),
    );
  });

  it('counts the jobs at the LLM from idx_jobs_forwarding alone, not by walking the queued backlog', async () => {
    stack.llm.handler = () => ({ status: 202 });
    const relay = await stack.start({ LLM_MAX_IN_FLIGHT: '2' });
    const db = relay.app.get(DataSource);
    const plan: { detail: string }[] = await db.query(
      `EXPLAIN QUERY PLAN ${relay.app.get(ClaimsRepository).clientTurnsSql}`,
    );
    const details = plan.map((row) => row.detail).join('\n');
    expect(details).toMatch(/USING (COVERING )?INDEX idx_jobs_forwarding/);
    expect(details).not.toMatch(/idx_jobs_status_created|SCAN jobs/);
  });

  it('frees a slot at once when a callback comes in, not at the next tick', async () => {
    const capacity = capacityLlm(1, 30);
    stack.llm.handler = capacity.handler;
    await stack.start({ LLM_MAX_IN_FLIGHT: '1', SCHEDULER_INTERVAL_MS: '60000' });
    const ids = await submitMany([stack.client], 5);
    const started = Date.now();
    await eventually(() => ids.every((id) => stack.web.for(id).length > 0), 'every delivery', 10_000);
    // With a one-minute tick, only kicks from the callbacks can move the queue this fast.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(capacity.state.peak).toBe(1);
  });

  it('pauses every forward until the Retry-After of a 429, then resumes by itself', async () => {
    const answers: { at: number; status: number }[] = [];
    stack.llm.handler = (request) => {
      const status = answers.length === 0 ? 429 : 202;
      answers.push({ at: Date.now(), status });
      return status === 429
        ? { status, headers: { 'retry-after': '1' } }
        : { status, body: { job: request.json.job_id } };
    };
    await stack.start();
    const [first] = await submitMany([stack.client], 1);
    await eventually(() => answers.length === 1, 'the 429');
    const pausedAt = answers[0].at;
    const metrics = await stack.client.metrics();
    expect(metricValue(metrics, 'relay_llm_pause_seconds')).toBeGreaterThan(0);
    const others = await submitMany([stack.client], 4);
    await eventually(() => answers.length === 6, 'the forwards after the pause', 10_000);
    for (const answer of answers.slice(1)) expect(answer.at - pausedAt).toBeGreaterThanOrEqual(990);
    for (const id of [first, ...others]) {
      await stack.client.waitForStatus(id, 'processing');
    }
  });

  it('backs off every forward after a 503 without Retry-After, longer after each one in a row', async () => {
    const answers: { at: number; status: number }[] = [];
    stack.llm.handler = () => {
      const status = answers.length < 2 ? 503 : 202;
      answers.push({ at: Date.now(), status });
      return { status };
    };
    // Backoff 0.4 s ±20 %: a pause of at least 0.32 s, then at least 0.64 s.
    await stack.start({ FORWARD_BACKOFF_SECONDS: '0.4' });
    const [jobId] = await submitMany([stack.client], 1);
    await eventually(() => answers.length === 2, 'two 503s in a row', 10_000);
    expect(answers[1].at - answers[0].at).toBeGreaterThanOrEqual(320);
    // A job submitted now waits out the second, longer pause like the one already waiting.
    await submitMany([stack.client], 1);
    await eventually(() => answers.length === 4, 'the forwards after the pause', 10_000);
    expect(answers[2].at - answers[1].at).toBeGreaterThanOrEqual(640);
    expect(answers[3].at - answers[1].at).toBeGreaterThanOrEqual(640);
    await stack.client.waitForStatus(jobId, 'processing');
  });
});

(postgresReachable('the LLM capacity test on PostgreSQL') ? describe : describe.skip)(
  'LLM_MAX_IN_FLIGHT across replicas on PostgreSQL',
  () => {
    const later = closeAfterEach();

    it('bounds a due-work scan by the database clock, so jobs not yet due are not read', async () => {
      const database = await createTestDatabase();
      later(() => database.drop());
      const relay = await startRelay({ DATABASE_URL: database.url, LLM_API_URL: 'http://127.0.0.1:9' });
      later(() => relay.close());
      const db = relay.app.get(DataSource);
      const plan: { 'QUERY PLAN': string }[] = await db.query(
        `EXPLAIN SELECT id FROM jobs WHERE status = 'cancelled' AND next_attempt_at <= ${nowMsSql(db)} ORDER BY next_attempt_at LIMIT 5`,
      );
      const text = plan.map((row) => row['QUERY PLAN']).join('\n');
      // The clock is an InitPlan, evaluated once, so it bounds the index scan instead of filtering row by row.
      expect(text).toMatch(/Index Cond: \(\(\(status\)::text = 'cancelled'::text\) AND \(next_attempt_at <= \$\d\)\)/);
      expect(text).not.toMatch(/Filter: .*clock_timestamp/);
    });

    it('keeps the jobs at the LLM within the limit for two replicas together', async () => {
      const database = await createTestDatabase();
      later(() => database.drop());
      const capacity = capacityLlm(4, 120);
      const stack = await startLoopbackStack({
        llm: capacity.handler,
        relay: false,
        env: { DATABASE_URL: database.url, LLM_MAX_IN_FLIGHT: '4' },
      });
      later(() => stack.close());
      const replicas = [await stack.start(), await stack.startAnother()];
      const ids = await submitMany(
        replicas.map((relay) => stack.clientFor(relay)),
        40,
      );
      await eventually(() => ids.every((id) => stack.web.for(id).length > 0), 'every delivery', 30_000);
      expect(capacity.state.peak).toBeLessThanOrEqual(4);
      expect(capacity.state.refused).toBe(0);
      expect(new Set(capacity.state.accepted).size).toBe(40);
    });
  },
);
