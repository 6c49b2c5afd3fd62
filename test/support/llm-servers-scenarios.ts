import { capacityLlm } from './capacity-llm';
import { closeAfterEach } from './cleanup';
import { callingBackLlm, eventually, FakeServer, postJson } from './fake-server';
import { HoldingLlm } from './holding-llm';
import { allDelivered, BreakableServer, startFleet, submitMany } from './llm-fleet';

export interface FleetTarget {
  database(): Promise<{ env: NodeJS.ProcessEnv; drop(): Promise<void> }>;
  /** How many relays share the database in the scenarios that say so (1 unless given). */
  replicas?: number;
}

/** The fleet's behaviour against real loopback LLM servers, on the database `target` gives each test. */
export function describeLlmServers(target: FleetTarget): void {
  const replicas = target.replicas ?? 1;
  const later = closeAfterEach();
  /** This test's database: its DATABASE_URL (none: the stack's own SQLite file), dropped after the test. */
  async function databaseEnv(): Promise<NodeJS.ProcessEnv> {
    const database = await target.database();
    later(() => database.drop());
    return database.env;
  }

  async function fake(handler: Parameters<typeof FakeServer.start>[0]): Promise<FakeServer> {
    const server = await FakeServer.start(handler);
    later(() => server.close());
    return server;
  }

  it('spreads 30 jobs over two servers of capacity 3, neither ever above it, and names the server on each job', async () => {
    const [a, b] = [capacityLlm(3, 150), capacityLlm(3, 150)];
    const [serverA, serverB] = [await fake(a.handler), await fake(b.handler)];
    const { stack, clients } = await startFleet(
      [
        { name: 'gpu-a', url: serverA.url, max_in_flight: 3 },
        { name: 'gpu-b', url: serverB.url, max_in_flight: 3 },
      ],
      later,
      await databaseEnv(),
    );
    const ids = await submitMany(clients, 30);
    await allDelivered(stack, ids, 30_000);
    expect(a.state.peak).toBeLessThanOrEqual(3);
    expect(b.state.peak).toBeLessThanOrEqual(3);
    // A full server is not a failure: nothing was refused, every job waited for a free slot.
    expect(a.state.refused + b.state.refused).toBe(0);
    expect(a.state.accepted.length).toBeGreaterThan(0);
    expect(b.state.accepted.length).toBeGreaterThan(0);
    expect(new Set([...a.state.accepted, ...b.state.accepted]).size).toBe(30);
    for (const id of ids.slice(0, 10)) {
      const job = await clients[0].job(id);
      expect(job.llm_server).toBe(a.state.accepted.includes(id) ? 'gpu-a' : 'gpu-b');
      const [forward] = await clients[0].attempts(id, 'forward');
      expect(forward.llm_server).toBe(job.llm_server);
    }
  });

  it('fails over from a server resetting every connection at once, opens its circuit, and uses it again once it recovers', async () => {
    const bad = await BreakableServer.start(callingBackLlm());
    later(() => bad.close());
    const good = await fake(callingBackLlm());
    const { stack, clients } = await startFleet(
      [
        { name: 'bad', url: bad.url },
        { name: 'good', url: good.url },
      ],
      later,
      {
        ...(await databaseEnv()),
        FORWARD_BACKOFF_SECONDS: '60',
        LLM_SERVER_FAILURE_THRESHOLD: '3',
        LLM_SERVER_COOLDOWN_SECONDS: '2',
        WORKER_CONCURRENCY: '4',
      },
    );
    const started = Date.now();
    const ids = await submitMany(clients, 20);
    await allDelivered(stack, ids, 20_000);
    // Well under the 60 s backoff: no job waited for it.
    expect(Date.now() - started).toBeLessThan(15_000);
    // The threshold, plus at most the forwards already out when the circuit opened (4 at once).
    expect(bad.connections).toBeGreaterThanOrEqual(3);
    expect(bad.connections).toBeLessThanOrEqual(3 + 4);
    const failedOver = await clients[0].attempts(
      ids.find((id) => stack.web.for(id).length > 0 && good.for(id).length > 0)!,
      'forward',
    );
    expect(failedOver.at(-1)).toMatchObject({ llm_server: 'good', outcome: 'success' });

    // It recovers; past the cooldown one forward probes it, and it takes its share again.
    bad.broken = false;
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const more = await submitMany(clients, 10, 'after');
    await allDelivered(stack, more);
    expect(more.filter((id) => bad.fake.for(id).length > 0).length).toBeGreaterThan(0);
  });

  it('a forward failing while the other server is up but full waits for its free slot, not for the backoff', async () => {
    const bad = await BreakableServer.start(callingBackLlm());
    later(() => bad.close());
    const holding = new HoldingLlm();
    const full = await fake(holding.handler);
    const { stack, clients } = await startFleet(
      [
        { name: 'bad', url: bad.url },
        { name: 'small', url: full.url, max_in_flight: 1 },
      ],
      later,
      { ...(await databaseEnv()), FORWARD_BACKOFF_SECONDS: '60', LLM_SERVER_FAILURE_THRESHOLD: '3' },
    );
    const [first] = await submitMany(clients, 1, 'first');
    await holding.waitHolding(1);
    const [second] = await submitMany(clients, 1, 'second');
    // It fails on bad (until bad's circuit opens) and finds small full: it waits queued, not 60 s.
    await eventually(
      async () => (await clients[0].job(second)).forward_attempts >= 2,
      'a failed forward of the second',
    );
    expect((await clients[0].job(second)).status).toBe('queued');
    const released = Date.now();
    await holding.release(false);
    await allDelivered(stack, [first]);
    await eventually(() => holding.forwards.includes(second), 'the second at the small server once it has room');
    expect(Date.now() - released).toBeLessThan(10_000);
    expect((await clients[0].job(second)).llm_server).toBe('small');
  });

  it('LLM_CALLBACK_TIMEOUT_RETRIES=1 forwards a silently dropped job again, to the other server, and delivers it', async () => {
    const dropper = await fake(() => ({ status: 202 }));
    const caller = await fake(callingBackLlm({ score: 0.7 }));
    const { stack, clients } = await startFleet(
      [
        { name: 'dropper', url: dropper.url },
        { name: 'caller', url: caller.url },
      ],
      later,
      {
        ...(await databaseEnv()),
        LLM_CALLBACK_TIMEOUT_SECONDS: '2',
        LLM_CALLBACK_TIMEOUT_RETRIES: '1',
        WORKER_CONCURRENCY: '1',
      },
    );
    const [id] = await submitMany(clients, 1, 'dropped');
    const job = await clients[0].waitForStatus(id, ['delivered', 'delivery_failed'], 15_000);
    expect(job).toMatchObject({ ok: true, result: { score: 0.7 }, llm_server: 'caller' });
    expect(dropper.for(id)).toHaveLength(1);
    expect(caller.for(id)).toHaveLength(1);
    const forwards = await clients[0].attempts(id, 'forward');
    expect(forwards.map((a: any) => [a.llm_server, a.outcome])).toEqual([
      ['dropper', 'success'],
      ['caller', 'success'],
    ]);
    // Both credentials stay valid until the outcome is known: the dropper's late answer is a repeat, not a second result.
    const late = await postJson(dropper.for(id)[0].json.callback_url, { ok: true, result: { score: 0.7 } });
    expect(late.status).toBe(200);
    expect(stack.web.for(id)).toHaveLength(1);
  });

  it("moves a dead server's jobs to the live one, each forwarded there once, long before their callback deadline", async () => {
    let dead = false;
    const dying = await fake((request) => {
      if (request.method === 'GET') return { status: dead ? 500 : 200 };
      return { status: dead ? 500 : 202 };
    });
    const live = await fake((request) => (request.method === 'GET' ? { status: 200 } : callingBackLlm()(request, 0)));
    const { stack, clients } = await startFleet(
      [
        { name: 'dying', url: dying.url, health_path: '/healthz' },
        { name: 'live', url: live.url, health_path: '/healthz' },
      ],
      later,
      {
        ...(await databaseEnv()),
        LLM_SERVER_DEAD_AFTER_SECONDS: '3',
        LLM_SERVER_HEALTH_INTERVAL_SECONDS: '1',
        LLM_CALLBACK_TIMEOUT_SECONDS: '300',
      },
      replicas,
    );
    const ids = await submitMany(clients, 8, 'held');
    await eventually(() => ids.every((id) => dying.for(id).length + live.for(id).length > 0), 'every job forwarded');
    const held = ids.filter((id) => dying.for(id).length > 0);
    expect(held.length).toBeGreaterThan(0);
    dead = true;
    const died = Date.now();
    await allDelivered(stack, ids, 20_000);
    expect(Date.now() - died).toBeLessThan(15_000);
    for (const id of held) {
      expect(live.for(id)).toHaveLength(1);
      const job = await clients[0].job(id);
      expect(job).toMatchObject({ ok: true, llm_server: 'live' });
      const forwards = await clients[0].attempts(id, 'forward');
      expect(forwards.filter((a: any) => a.outcome === 'moved')).toEqual([
        expect.objectContaining({ llm_server: 'dying', error: expect.stringContaining('no replica had a success') }),
      ]);
      expect(forwards.at(-1)).toMatchObject({ llm_server: 'live', outcome: 'success' });
    }
  });

  it('pauses only the server that answered 429 with Retry-After: 30; the other carries every job meanwhile', async () => {
    const paused = await fake(() => ({ status: 429, headers: { 'retry-after': '30' } }));
    const other = await fake(callingBackLlm());
    const { stack, clients } = await startFleet(
      [
        { name: 'paused', url: paused.url },
        { name: 'other', url: other.url },
      ],
      later,
      {
        ...(await databaseEnv()),
        WORKER_CONCURRENCY: '1',
        FORWARD_BACKOFF_SECONDS: '60',
      },
    );
    const ids = await submitMany(clients, 10);
    await allDelivered(stack, ids);
    // Asked once; after its answer, never again before its Retry-After.
    expect(paused.requests).toHaveLength(1);
    const first = paused.requests[0].json.job_id as string;
    expect(
      (await clients[0].attempts(first, 'forward')).map((a: any) => [a.llm_server, a.status_code, a.outcome]),
    ).toEqual([
      ['paused', 429, 'retry'],
      ['other', 202, 'success'],
    ]);
    for (const id of ids) expect((await clients[0].job(id)).llm_server).toBe('other');
    const metrics = (await clients[0].http.get('/metrics')).text;
    expect(metrics).toContain('relay_llm_server_state{server="paused",state="paused"} 1');
    expect(metrics).toContain('relay_llm_server_state{server="other",state="closed"} 1');
  });

  it('sends nothing to a server whose health probe fails, until a probe succeeds', async () => {
    let healthy = false;
    const sick = await fake((request) =>
      request.method === 'GET' ? { status: healthy ? 200 : 500 } : callingBackLlm()(request, 0),
    );
    const well = await fake((request) => (request.method === 'GET' ? { status: 204 } : callingBackLlm()(request, 0)));
    const { stack, clients } = await startFleet(
      [
        { name: 'sick', url: sick.url, health_path: '/healthz' },
        { name: 'well', url: well.url, health_path: '/healthz' },
      ],
      later,
      {
        ...(await databaseEnv()),
        LLM_SERVER_HEALTH_INTERVAL_SECONDS: '1',
      },
    );
    await eventually(
      async () => (await clients[0].http.get('/metrics')).text.includes('server="sick",state="unhealthy"} 1'),
      'the failed probe',
    );
    const ids = await submitMany(clients, 8);
    await allDelivered(stack, ids);
    expect(sick.requests.filter((request) => request.method === 'POST')).toHaveLength(0);
    healthy = true;
    await eventually(
      async () => (await clients[0].http.get('/metrics')).text.includes('server="sick",state="closed"} 1'),
      'the next probe',
    );
    const more = await submitMany(clients, 8, 'well-again');
    await allDelivered(stack, more);
    expect(sick.requests.filter((request) => request.method === 'POST').length).toBeGreaterThan(0);
  });

  it('sends a cancel notice to the server that holds the job, and to no other', async () => {
    const holding = (request: { method: string; path: string }) => ({
      status: request.path.endsWith('/cancel') ? 200 : 202,
    });
    const [a, b] = [await fake(holding), await fake(holding)];
    const { clients } = await startFleet(
      [
        { name: 'gpu-a', url: a.url, cancel_path: '/v1/reviews/{job_id}/cancel' },
        { name: 'gpu-b', url: b.url, cancel_path: '/v1/reviews/{job_id}/cancel' },
      ],
      later,
      await databaseEnv(),
    );
    const [id] = await submitMany(clients, 1);
    const processing = await clients[0].waitForStatus(id, 'processing');
    const [holder, bystander] = processing.llm_server === 'gpu-a' ? [a, b] : [b, a];
    await clients[0].post(`/v1/reviews/${id}/cancel`);
    await eventually(
      () => holder.requests.some((request) => request.path === `/v1/reviews/${id}/cancel`),
      'the notice',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bystander.requests.filter((request) => request.path.endsWith('/cancel'))).toHaveLength(0);
    const [notice] = await clients[0].attempts(id, 'cancel');
    expect(notice).toMatchObject({ llm_server: processing.llm_server, outcome: 'success' });
  });
}
