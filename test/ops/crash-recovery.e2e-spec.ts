import * as fs from 'node:fs';
import { eventually, freePort, type FakeHandler, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';
import { RelayClient } from '../support/relay-client';
import { type RelayProcess } from '../support/relay-process';

/**
 * Waits until every job of `ids` is delivered, asking the relay's API (the relay runs as a process of its own, so
 * there is no scheduler to await). The deadline is for progress, not for the whole: it starts again each time one
 * more of them is delivered, so a loaded machine that is slow but moving passes, while jobs that stay stuck fail the
 * wait after `stallMs`, named with their state.
 */
async function untilAllDelivered(client: RelayClient, ids: string[], stallMs = 30_000): Promise<void> {
  let deadline = Date.now() + stallMs;
  let delivered = 0;
  for (;;) {
    const page = await client.get('/v1/reviews?status=delivered&limit=100').catch(() => null);
    const done = new Set<string>((page?.body?.items ?? []).map((job: { job_id: string }) => job.job_id));
    const missing = ids.filter((id) => !done.has(id));
    if (missing.length === 0) return;
    if (ids.length - missing.length > delivered) {
      delivered = ids.length - missing.length;
      deadline = Date.now() + stallMs;
    }
    if (Date.now() > deadline) {
      const states = await Promise.all(
        missing.map(
          async (id) => `${id}: ${JSON.stringify(await client.job(id).catch((error: Error) => error.message))}`,
        ),
      );
      throw new Error(
        `Timed out waiting for all ${ids.length} accepted jobs delivered: ${missing.length} not after ${stallMs} ms without progress\n${states.join('\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * kill -9 while forwards are in flight, then while deliveries are in flight, restarting on the same SQLite file each
 * time: every accepted job must still be delivered.
 */
describe('crash safety (real process, kill -9)', () => {
  const dir = tempDir('relay-crash-');
  const env = {
    DATABASE_URL: `sqlite:///${dir}/relay.db`,
    OUTBOUND_TIMEOUT_SECONDS: '1',
    LEASE_MARGIN_SECONDS: '0.2',
  };
  const hang: FakeHandler = () => ({ hang: true });
  // Every life of the relay is a process started through the stack, which kills the last one at the end.
  const stack = useLoopbackStack({ llm: hang, web: hang, relay: false });
  /** The relay's current life. */
  let relay: RelayProcess | undefined;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finishes every accepted job after crashes mid-forward and mid-delivery', async () => {
    relay = await stack.startProcess(env);
    const client = stack.clientFor(relay);
    const jobIds: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const answer = await client.submitAnswer({ submission_id: `crash-${i}` });
      expect(answer.status).toBe(202);
      jobIds.push(answer.body.job_id);
    }
    await eventually(() => jobIds.every((id) => stack.llm.for(id).length > 0), 'every forward in flight');
    expect(await relay.kill()).toBeNull();

    // Second life: the LLM now accepts and calls back at once; the web service still hangs.
    stack.llm.handler = (request) => {
      setTimeout(
        () =>
          void postJson(request.json.callback_url, { ok: true, result: { n: request.json.submission_id } }).catch(
            () => undefined,
          ),
        5,
      );
      return { status: 202 };
    };
    relay = await stack.startProcess(env);
    await eventually(
      () => jobIds.every((id) => stack.web.for(id).length > 0),
      'every delivery in flight',
      30_000,
    ).catch(async (error: Error) => {
      const states = await Promise.all(
        jobIds.map(async (id) => JSON.stringify(await (await fetch(`${relay!.url}/v1/reviews/${id}/attempts`)).json())),
      );
      throw new Error(`${error.message}\n${states.join('\n')}\n${relay!.output.slice(-3000)}`);
    });
    await relay.kill();

    // Third life: the web service answers.
    stack.web.handler = () => ({ status: 200 });
    relay = await stack.startProcess(env);
    await untilAllDelivered(new RelayClient(relay.url), jobIds);

    for (const id of jobIds) {
      const deliveries = stack.web.for(id);
      expect(deliveries.length).toBeGreaterThanOrEqual(2);
      expect(new Set(deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
      expect(deliveries[deliveries.length - 1].json).toMatchObject({ job_id: id, ok: true });
    }
    await relay.kill();
    // Three lives of the process and their waits, on a shared 2-core machine.
  }, 120_000);

  it('loses nothing when killed at random moments during a burst', async () => {
    const chaosDir = tempDir('relay-chaos-');
    // One port for every life, as a real deployment's PUBLIC_BASE_URL stays put: callback URLs stay valid. A callback
    // that hits the relay while it is down is lost (this fake LLM does not retry), so the deadline is short.
    const chaosEnv = {
      ...env,
      DATABASE_URL: `sqlite:///${chaosDir}/relay.db`,
      PORT: String(await freePort()),
      LLM_CALLBACK_TIMEOUT_SECONDS: '2',
    };
    stack.llm.handler = (request) => {
      setTimeout(
        () => void postJson(request.json.callback_url, { ok: true, result: 1 }).catch(() => undefined),
        Math.random() * 50,
      );
      return { status: 202 };
    };
    stack.web.handler = async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
      return { status: 200 };
    };
    const accepted: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      relay = await stack.startProcess(chaosEnv);
      const client = stack.clientFor(relay);
      const posting = (async () => {
        for (let i = 0; i < 8; i += 1) {
          const answer = await client.submitAnswer({ submission_id: `chaos-${round}-${i}` }).catch(() => null);
          if (answer?.status === 202) accepted.push(answer.body.job_id);
        }
      })();
      if (round < 3) {
        // Crash once this life has taken at least one job, at a random point of the rest of its burst.
        const taken = accepted.length;
        await eventually(() => accepted.length > taken, `a job accepted in life ${round + 1}`);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
        await relay.kill();
      }
      await posting;
    }
    // Every job that got its 202 is delivered. (A job stored just before a kill whose answer never reached the client
    // is delivered too, but is not among them: counting all delivered jobs would wait for a number never reached.)
    await untilAllDelivered(new RelayClient(relay!.url), accepted);
    expect(accepted.length).toBeGreaterThan(8);
    for (const id of accepted) expect(stack.web.for(id).length).toBeGreaterThanOrEqual(1);
    await relay!.kill();
    fs.rmSync(chaosDir, { recursive: true, force: true });
    // Four lives of the process on a shared 2-core machine, then the wait above: more than the default 60 s may pass.
  }, 180_000);
});
