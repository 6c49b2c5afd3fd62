import { Client } from 'pg';
import { eventually, type FakeHandler, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { PrivatePostgres, privatePostgresAvailable } from '../support/private-postgres';
import { type RelayClient } from '../support/relay-client';

interface Answer {
  status: number;
  body: any;
  phase: 'before' | 'down' | 'after';
}

/** An LLM that accepts each job and calls back until the relay answers 2xx, as a well-behaved LLM server retries. */
function persistentLlm(callbackStatuses: number[]): FakeHandler {
  return (request) => {
    const callBack = async (): Promise<void> => {
      for (;;) {
        const answer = await postJson(request.json.callback_url, { ok: true, result: { score: 1 } }).catch(() => ({
          status: 0,
        }));
        callbackStatuses.push(answer.status);
        if (answer.status >= 200 && answer.status < 300) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    setTimeout(() => void callBack(), 5);
    return { status: 202, body: { accepted: true } };
  };
}

/** Intake's answer, or status 0 when none came (asserted below: every request gets a JSON answer). */
async function submit(client: RelayClient, index: number): Promise<{ status: number; body: any }> {
  const answer = await client
    .submitAnswer({ submission_id: `restart-${index}` })
    .catch((error: Error) => ({ status: 0, body: error.message, text: '' }));
  return { status: answer.status, body: answer.body ?? answer.text };
}

async function readiness(relay: { url: string }): Promise<number> {
  const response = await fetch(`${relay.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  return response.status;
}

(privatePostgresAvailable() ? describe : describe.skip)('PostgreSQL restarted under load (a private cluster)', () => {
  let pg: PrivatePostgres;
  const callbackStatuses: number[] = [];
  const stack = useLoopbackStack({
    relay: false,
    llm: persistentLlm(callbackStatuses),
    // A slow receiver, so that deliveries are in flight when the database goes away: the receiver acknowledges them
    // while the relay cannot record it.
    web: async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      return { status: 200 };
    },
  });

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    const admin = new Client({ connectionString: pg.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE relay');
    await admin.end();
  }, 60_000);

  // After the stack's own afterAll has killed the relay.
  afterAll(() => pg?.destroy());

  it('answers 503 while the database is away, recovers by itself, and delivers every accepted job exactly once', async () => {
    const relay = await stack.startProcess({
      DATABASE_URL: pg.url('relay'),
      // A lease (12 s) longer than the outage, which the attempts' outcome writes wait out, yet short enough that work
      // cut off between a claim and its read is taken up again within the test.
      OUTBOUND_TIMEOUT_SECONDS: '2',
      LEASE_MARGIN_SECONDS: '10',
      DATABASE_POOL_SIZE: '4',
    });
    const client = stack.clientFor(relay);
    const answers: Answer[] = [];
    let phase: Answer['phase'] = 'before';
    let loading = true;
    let index = 0;
    const load = (async () => {
      while (loading) {
        const at = phase;
        const answer = await submit(client, index++);
        answers.push({ ...answer, phase: at === phase ? at : 'down' });
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();

    await eventually(() => stack.web.requests.length >= 10, 'deliveries before the outage');
    const beforeOutage = stack.web.requests[0].json;
    const callbackUrl = stack.llm.for(beforeOutage.job_id)[0].json.callback_url as string;

    phase = 'down';
    await pg.stop('fast');
    await eventually(async () => (await readiness(relay)) === 503, 'readiness 503 while the database is down');
    const intakeWhileDown = await submit(client, 100_000);
    expect(intakeWhileDown.status).toBe(503);
    expect(intakeWhileDown.body).toMatchObject({ statusCode: 503, code: 'database_unavailable' });
    // A repeat of an accepted result cannot be checked now: the LLM must retry, not be told "stored".
    const callbackWhileDown = await postJson(callbackUrl, { ok: true, result: { score: 1 } });
    expect(callbackWhileDown.status).toBe(503);
    expect(callbackWhileDown.json).toMatchObject({ code: 'database_unavailable' });
    // The load keeps coming for a while, and the scheduler keeps failing its ticks (every 50 ms). The relay runs as a
    // process of its own, so instead of awaiting its scheduler this waits for what it shows: a run of refused intakes
    // and the scheduler's warning.
    await eventually(
      () =>
        /the database does not answer/.test(relay.output) &&
        answers.filter((answer) => answer.phase === 'down' && answer.status === 503).length >= 20,
      'intake refused and the scheduler failing its ticks while the database is down',
      20_000,
    );

    await pg.start();
    phase = 'after';
    await eventually(async () => (await readiness(relay)) === 200, 'readiness back to 200', 20_000);
    await eventually(
      () => answers.filter((answer) => answer.phase === 'after' && answer.status === 202).length >= 10,
      'intake 202 again',
      20_000,
    );
    loading = false;
    await load;

    const down = answers.filter((answer) => answer.phase === 'down');
    expect(down.length).toBeGreaterThan(0);
    for (const answer of answers) {
      expect([202, 503]).toContain(answer.status);
      if (answer.status === 503) expect(answer.body).toMatchObject({ statusCode: 503, code: 'database_unavailable' });
    }
    expect(down.some((answer) => answer.status === 503)).toBe(true);

    const accepted = answers.filter((answer) => answer.status === 202).map((answer) => answer.body.job_id as string);
    expect(new Set(accepted).size).toBe(accepted.length);
    // Once every job is `delivered` (final), no second delivery can come, even from a lease running out.
    const count = async (query: string) =>
      ((await (await fetch(`${relay.url}/v1/reviews?limit=1&include_total=true${query}`)).json()) as { total: number })
        .total;
    await eventually(
      async () => (await count('&status=delivered')) >= accepted.length,
      'every accepted job delivered',
      40_000,
    );
    // Stored = acknowledged: no job exists that intake did not answer 202 for.
    expect(await count('')).toBe(accepted.length);
    expect(await count('&status=delivered')).toBe(accepted.length);
    const notOnce = accepted.filter((id) => stack.web.for(id).length !== 1);
    expect(notOnce).toEqual([]);
    expect(stack.web.requests.every((request) => accepted.includes(request.json.job_id))).toBe(true);
    // The process never exited: it still answers.
    expect(await readiness(relay)).toBe(200);
    // The scheduler's failing ticks (every 50 ms for seconds) said so once, and said when the database came back.
    expect(relay.output.match(/the database does not answer/g)).toHaveLength(1);
    expect(relay.output).toContain('the database answers again');
    expect(relay.output).not.toMatch(/tick failed|unhandled error|Unhandled|uncaught/i);
    expect(callbackStatuses.filter((status) => status === 500)).toEqual([]);
  }, 120_000);
});
