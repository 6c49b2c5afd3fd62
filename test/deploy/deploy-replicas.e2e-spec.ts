import * as fs from 'node:fs';
import { eventually, freePort, type RecordedRequest } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { hasProgram } from '../support/external';
import { NginxAnswer, NginxProcess } from '../support/nginx';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { tempDir } from '../support/relay';
import { type RelayProcess } from '../support/relay-process';

const ready =
  hasProgram('nginx', 'RELAY_REQUIRE_NGINX') &&
  hasProgram('openssl', 'RELAY_REQUIRE_NGINX') &&
  postgresReachable('nginx in front of two replicas');

/** The replica that answered: the last address of nginx's $upstream_addr (earlier ones were tried and failed). */
const answeredBy = (answer: NginxAnswer) =>
  String(answer.headers['x-upstream-addr'] ?? '')
    .split(', ')
    .pop();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * deploy/nginx.conf in front of two relay processes on one PostgreSQL database. Jobs go in through nginx, the LLM calls
 * back through nginx, and one replica is killed with SIGKILL while jobs are in flight.
 */
(ready ? describe : describe.skip)(
  'nginx in front of two replicas, one killed mid-run (real nginx, PostgreSQL, processes)',
  () => {
    const dir = tempDir('relay-replicas-');
    const relays: RelayProcess[] = [];
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let nginx: NginxProcess;
    /** Callback attempts the fake LLM made through nginx. */
    const callbacks: Array<{ jobId: string; status: number; by: string | undefined; at: number }> = [];
    /** The LLM holds its callbacks until released (so some arrive only after the kill). */
    const held: Array<() => void> = [];
    let holding = true;

    /** An LLM server as real ones behave: accepts, calls back later, and retries its callback on errors and 5xx. */
    async function callBack(request: RecordedRequest): Promise<void> {
      const url = new URL(request.json.callback_url);
      const body = JSON.stringify({ ok: true, result: { reviewed: request.json.submission_id } });
      for (let attempt = 1; attempt <= 20; attempt += 1) {
        const answer = await nginx.request('POST', url.pathname + url.search, body).catch(() => null);
        callbacks.push({
          jobId: request.json.job_id,
          status: answer?.status ?? 0,
          by: answer ? answeredBy(answer) : undefined,
          at: Date.now(),
        });
        if (answer && answer.status < 500) return;
        await pause(100);
      }
    }

    /** The web service's side: POST with an Idempotency-Key, retrying (same key) on 502/504 as the README says. */
    async function submit(key: string): Promise<{ jobId: string; by: string | undefined; tries: number }> {
      const body = JSON.stringify({
        submission_id: key,
        file_refs: [{ url: 'https://files.example.com/x.pdf' }],
        webhook_url: `${stack.web.url}/hook`,
      });
      for (let tries = 1; ; tries += 1) {
        const answer = await nginx.request('POST', '/v1/reviews', body, { 'idempotency-key': key }).catch(() => null);
        if (answer?.status === 202) return { jobId: JSON.parse(answer.text).job_id, by: answeredBy(answer), tries };
        if (tries === 10 || (answer && answer.status !== 502 && answer.status !== 504))
          throw new Error(`intake answered ${answer?.status}: ${answer?.text}`);
        await pause(100);
      }
    }

    // The replicas are processes started through the stack, which kills them at the end.
    const stack = useLoopbackStack({
      relay: false,
      web: async () => {
        await pause(Math.random() * 40);
        return { status: 200 };
      },
      llm: (request) => {
        const send = () => void callBack(request);
        if (holding) held.push(send);
        else setTimeout(send, Math.random() * 30);
        return { status: 202 };
      },
    });

    beforeAll(async () => {
      database = await createTestDatabase('relay_replicas');
      const [httpPort, httpsPort, ...ports] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
      const env = {
        DATABASE_URL: database.url,
        PUBLIC_BASE_URL: `https://127.0.0.1:${httpsPort}`,
        OUTBOUND_TIMEOUT_SECONDS: '1',
        LEASE_MARGIN_SECONDS: '0.2',
      };
      // One after the other: the first migrates the fresh database (TypeORM has no migration lock across processes).
      for (const port of ports) relays.push(await stack.startProcess({ ...env, PORT: String(port) }));
      // fail_timeout 1 s instead of 10 s: within the test, nginx tries the dead replica again and must move on.
      nginx = await NginxProcess.start(
        dir,
        ports.map((port) => `127.0.0.1:${port}`),
        { httpPort, httpsPort, failTimeout: '1s' },
      );
    });

    // After the stack's own afterAll has killed the replicas.
    afterAll(async () => {
      await nginx?.stop();
      await database?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("delivers every accepted job exactly once, and the survivor takes intake and the dead one's callbacks", async () => {
      const [doomed, survivor] = relays.map((relay) => new URL(relay.url).host);
      const accepted: Array<{ jobId: string; by: string | undefined; tries: number; phase: string }> = [];
      const take = (phase: string) => async (key: string) => accepted.push({ ...(await submit(key)), phase });

      // 1. Both replicas take jobs; the LLM accepts them and holds their callbacks.
      for (let i = 0; i < 12; i += 1) await take('held')(`held-${i}`);
      expect(new Set(accepted.map((job) => job.by))).toEqual(new Set([doomed, survivor]));
      await eventually(() => accepted.every((job) => stack.llm.for(job.jobId).length > 0), 'every held job forwarded');

      // 2. A burst with immediate callbacks, four at a time; SIGKILL one replica once a few are in.
      holding = false;
      const burst = Array.from({ length: 4 }, (_, lane) =>
        (async () => {
          for (let i = lane; i < 24; i += 4) await take('burst')(`burst-${i}`);
        })(),
      );
      await eventually(() => accepted.filter((job) => job.phase === 'burst').length >= 6, 'the burst under way');
      await relays[0].kill();
      const killedAt = Date.now();
      for (const send of held.splice(0)) send();
      await Promise.all(burst);

      // 3. Intake keeps answering through nginx, over more than two fail_timeouts: first try, by the survivor. The LLM
      // holds its callbacks meanwhile, so nginx's retries of the dead replica fall on intake requests.
      holding = true;
      const before = accepted.length;
      for (let i = 0; i < 10; i += 1) {
        await take('after')(`after-${i}`);
        await pause(250);
      }
      const after = accepted.slice(before);
      expect(after.map((job) => [job.tries, job.by])).toEqual(after.map(() => [1, survivor]));
      holding = false;
      for (const send of held.splice(0)) send();

      // Every job that got a 202 is delivered: one job per Idempotency-Key, nothing else in the database.
      const ids = accepted.map((job) => job.jobId);
      expect(new Set(ids).size).toBe(accepted.length);
      await eventually(
        async () => {
          const answer = await nginx.request('GET', '/v1/reviews?status=delivered&limit=100&include_total=true');
          return JSON.parse(answer.text).total === ids.length;
        },
        'every accepted job delivered',
        30_000,
      );
      expect(JSON.parse((await nginx.request('GET', '/v1/reviews?limit=1&include_total=true')).text).total).toBe(
        ids.length,
      );

      // Exactly once for the receiver: one webhook-id per job and one result. A repeat of the same delivery is allowed
      // only where the killed replica had sent it and died before recording the answer (at-least-once, deduped on
      // webhook-id); anything that started after the kill was sent once.
      for (const job of accepted) {
        const deliveries = stack.web.for(job.jobId);
        expect(new Set(deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
        expect(deliveries[0].json).toMatchObject({
          job_id: job.jobId,
          ok: true,
          result: { reviewed: expect.any(String) },
        });
        if (deliveries.length > 1) expect(deliveries[0].at).toBeLessThanOrEqual(killedAt + 200);
        if (job.phase === 'after') expect(deliveries).toHaveLength(1);
      }

      // Every callback went through nginx, as PUBLIC_BASE_URL says, and none failed: one cut off by the kill was moved to
      // the survivor by nginx itself (callbacks are idempotent, so their location retries even after sending).
      expect(new Set(stack.llm.requests.map((r) => new URL(r.json.callback_url).origin))).toEqual(
        new Set([nginx.origin]),
      );
      expect(callbacks.filter((c) => c.status !== 200)).toEqual([]);

      // The dead replica's held jobs were called back after the kill: the survivor accepted those callbacks.
      const orphans = accepted.filter((job) => job.phase === 'held' && job.by === doomed);
      expect(orphans.length).toBeGreaterThan(0);
      for (const job of orphans) {
        const final = callbacks.filter((c) => c.jobId === job.jobId).pop();
        expect(final).toMatchObject({ status: 200, by: survivor });
      }
      // Passive health: nginx took the dead replica out after max_fails failures, tried it again after fail_timeout (the
      // refused connections, moved on to the survivor above), and never had a failure from the survivor.
      const failures = nginx
        .errorLog()
        .split('\n')
        .filter((line) => line.includes('upstream: "http://'));
      expect(
        failures.some((line) => line.includes('upstream server temporarily disabled') && line.includes(`//${doomed}/`)),
      ).toBe(true);
      expect(failures.some((line) => line.includes('Connection refused') && line.includes(`//${doomed}/`))).toBe(true);
      expect(failures.filter((line) => line.includes(`//${survivor}/`))).toEqual([]);
    });
  },
);
