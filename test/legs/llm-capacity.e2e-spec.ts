import { DataSource } from 'typeorm';
import { nowMsSql } from '../../src/database/db-clock';
import { ClaimStatement } from '../../src/jobs/claim-statement';
import { capacityLlm, gaugeValue } from '../support/capacity-llm';
import { eventually, FakeServer } from '../support/fake-server';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { reviewBody, RunningRelay, startRelay } from '../support/relay';

async function submitMany(relays: RunningRelay[], webUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const relay = relays[i % relays.length];
    const response = await relay.http.post('/v1/reviews').send(reviewBody(`${webUrl}/hook`, { submission_id: `cap-${i}` })).expect(202);
    ids.push(response.body.job_id);
  }
  return ids;
}

describe('LLM_MAX_IN_FLIGHT and the LLM pause', () => {
  let llm: FakeServer;
  let web: FakeServer;
  let relay: RunningRelay | undefined;

  beforeEach(async () => {
    web = await FakeServer.start();
  });

  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    await llm.close();
    await web.close();
  });

  it('never has more jobs at the LLM than the limit, forwards the oldest first, and starts each deadline at its forward', async () => {
    const capacity = capacityLlm(3, 250);
    llm = await FakeServer.start(capacity.handler);
    // 18 jobs, 3 at a time, 250 ms each: about 1.5 s in all, longer than the callback deadline. A deadline counted
    // from intake would expire the later ones; counted from the forward, every job is delivered with its result.
    relay = await startRelay({ LLM_API_URL: llm.url, LLM_MAX_IN_FLIGHT: '3', LLM_CALLBACK_TIMEOUT_SECONDS: '1' });
    const ids = await submitMany([relay], web.url, 18);

    const last = (await relay.http.get(`/v1/reviews/${ids[17]}`).expect(200)).body;
    expect(last.status).toBe('queued');
    expect(last.queue_position).toBeGreaterThan(1);
    const metrics = (await relay.http.get('/metrics').expect(200)).text;
    expect(gaugeValue(metrics, 'relay_llm_in_flight')).toBeLessThanOrEqual(3);
    expect(gaugeValue(metrics, 'relay_llm_waiting')).toBeGreaterThan(0);
    expect(gaugeValue(metrics, 'relay_llm_max_in_flight')).toBe(3);

    await eventually(() => ids.every((id) => web.for(id).length > 0), 'every delivery', 20_000);
    for (const id of ids) expect(web.for(id)[0].json).toMatchObject({ ok: true, result: { score: 0.5 } });
    expect(capacity.state.peak).toBe(3);
    expect(capacity.state.refused).toBe(0);
    // Oldest first: jobs were submitted one after another, so each is forwarded within the few that free up together
    // (the forwards of one claim race each other to the LLM), never after a younger job further along.
    expect([...capacity.state.accepted].sort()).toEqual([...ids].sort());
    ids.forEach((id, intakeOrder) => expect(Math.abs(capacity.state.accepted.indexOf(id) - intakeOrder)).toBeLessThan(3));
  });

  it('counts the jobs at the LLM from idx_jobs_forwarding alone, not by walking the queued backlog', async () => {
    llm = await FakeServer.start(() => ({ status: 202 }));
    relay = await startRelay({ LLM_API_URL: llm.url, LLM_MAX_IN_FLIGHT: '2' });
    const db = relay.app.get(DataSource);
    const plan: { detail: string }[] = await db.query(`EXPLAIN QUERY PLAN ${new ClaimStatement(db).inFlightSql}`);
    const details = plan.map((row) => row.detail).join('\n');
    expect(details).toMatch(/USING (COVERING )?INDEX idx_jobs_forwarding/);
    expect(details).not.toMatch(/idx_jobs_status_created|SCAN jobs/);
  });

  it('frees a slot at once when a callback comes in, not at the next tick', async () => {
    const capacity = capacityLlm(1, 30);
    llm = await FakeServer.start(capacity.handler);
    relay = await startRelay({ LLM_API_URL: llm.url, LLM_MAX_IN_FLIGHT: '1', SCHEDULER_INTERVAL_MS: '60000' });
    const ids = await submitMany([relay], web.url, 5);
    const started = Date.now();
    await eventually(() => ids.every((id) => web.for(id).length > 0), 'every delivery', 10_000);
    // With a one-minute tick, only kicks from the callbacks can move the queue this fast.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(capacity.state.peak).toBe(1);
  });

  it('pauses every forward until the Retry-After of a 429, then resumes by itself', async () => {
    const answers: { at: number; status: number }[] = [];
    llm = await FakeServer.start((request) => {
      const status = answers.length === 0 ? 429 : 202;
      answers.push({ at: Date.now(), status });
      return status === 429 ? { status, headers: { 'retry-after': '1' } } : { status, body: { job: request.json.job_id } };
    });
    relay = await startRelay({ LLM_API_URL: llm.url });
    const [first] = await submitMany([relay], web.url, 1);
    await eventually(() => answers.length === 1, 'the 429');
    const pausedAt = answers[0].at;
    const metrics = (await relay.http.get('/metrics').expect(200)).text;
    expect(gaugeValue(metrics, 'relay_llm_pause_seconds')).toBeGreaterThan(0);
    const others = await submitMany([relay], web.url, 4);
    await eventually(() => answers.length === 6, 'the forwards after the pause', 10_000);
    for (const answer of answers.slice(1)) expect(answer.at - pausedAt).toBeGreaterThanOrEqual(990);
    for (const id of [first, ...others]) {
      await eventually(async () => (await relay!.http.get(`/v1/reviews/${id}`)).body.status === 'processing', `${id} processing`);
    }
  });

  it('backs off every forward after a 503 without Retry-After, longer after each one in a row', async () => {
    const answers: { at: number; status: number }[] = [];
    llm = await FakeServer.start(() => {
      const status = answers.length < 2 ? 503 : 202;
      answers.push({ at: Date.now(), status });
      return { status };
    });
    // Backoff 0.4 s ±20 %: a pause of at least 0.32 s, then at least 0.64 s.
    relay = await startRelay({ LLM_API_URL: llm.url, FORWARD_BACKOFF_SECONDS: '0.4' });
    const [jobId] = await submitMany([relay], web.url, 1);
    await eventually(() => answers.length === 2, 'two 503s in a row', 10_000);
    expect(answers[1].at - answers[0].at).toBeGreaterThanOrEqual(320);
    // A job submitted now waits out the second, longer pause like the one already waiting.
    await submitMany([relay], web.url, 1);
    await eventually(() => answers.length === 4, 'the forwards after the pause', 10_000);
    expect(answers[2].at - answers[1].at).toBeGreaterThanOrEqual(640);
    expect(answers[3].at - answers[1].at).toBeGreaterThanOrEqual(640);
    await eventually(async () => (await relay!.http.get(`/v1/reviews/${jobId}`)).body.status === 'processing', 'processing');
  });
});

(postgresReachable('the LLM capacity test on PostgreSQL') ? describe : describe.skip)('LLM_MAX_IN_FLIGHT across replicas on PostgreSQL', () => {
  it("bounds a due-work scan by the database clock, so jobs not yet due are not read", async () => {
    const database = await createTestDatabase();
    const relay = await startRelay({ DATABASE_URL: database.url, LLM_API_URL: 'http://127.0.0.1:9' });
    try {
      const db = relay.app.get(DataSource);
      const plan: { 'QUERY PLAN': string }[] = await db.query(
        `EXPLAIN SELECT id FROM jobs WHERE status = 'cancelled' AND next_attempt_at <= ${nowMsSql(db)} ORDER BY next_attempt_at LIMIT 5`,
      );
      const text = plan.map((row) => row['QUERY PLAN']).join('\n');
      // The clock is an InitPlan, evaluated once, so it bounds the index scan instead of filtering row by row.
      expect(text).toMatch(/Index Cond: \(\(\(status\)::text = 'cancelled'::text\) AND \(next_attempt_at <= \$\d\)\)/);
      expect(text).not.toMatch(/Filter: .*clock_timestamp/);
    } finally {
      await relay.close();
      await database.drop();
    }
  });

  it('keeps the jobs at the LLM within the limit for two replicas together', async () => {
    const database = await createTestDatabase();
    const capacity = capacityLlm(4, 120);
    const llm = await FakeServer.start(capacity.handler);
    const web = await FakeServer.start();
    const env = { DATABASE_URL: database.url, LLM_API_URL: llm.url, LLM_MAX_IN_FLIGHT: '4' };
    const relays = [await startRelay(env), await startRelay(env)];
    try {
      const ids = await submitMany(relays, web.url, 40);
      await eventually(() => ids.every((id) => web.for(id).length > 0), 'every delivery', 30_000);
      expect(capacity.state.peak).toBeLessThanOrEqual(4);
      expect(capacity.state.refused).toBe(0);
      expect(new Set(capacity.state.accepted).size).toBe(40);
    } finally {
      for (const relay of relays) await relay.close();
      await llm.close();
      await web.close();
      await database.drop();
    }
  });
});
