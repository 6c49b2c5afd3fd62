import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { eventually, FakeServer, freePort } from '../support/fake-server';
import { FAST, tempDir } from '../support/relay';
import { findNode } from './node-binaries';

/**
 * better-sqlite3 12 aborted the whole process on Node 24.19 and later when a garbage collection, typically one after a
 * burst of work, or the teardown at exit, collected a prepared statement (`Assertion failed: (env) != nullptr` in
 * Statement::~Statement). Here the built relay runs on Node 24+ with a full GC forced every second and a tiny young
 * generation (so scavenges run constantly), takes a few thousand jobs through a loopback LLM and receiver, reads the
 * job list in more shapes than the driver's 100-statement cache holds (so statements are dropped and collected), idles
 * while the GCs go on, then stops on SIGTERM: it must stay alive, deliver every job and exit 0.
 */
const node = findNode((candidate) => candidate.major >= 24);
if (!node)
  process.stderr.write(
    'skipping the GC-under-load test: no Node 24 or later found (.ci/run puts Node 26 in .tmp/node26)\n',
  );
const JOBS = Number(process.env.RELAY_GC_TEST_JOBS ?? 2000);
const MAIN = path.resolve(__dirname, '../../dist/main.js');
const GC_OFTEN = path.join(__dirname, 'fixtures/gc-often.js');

/** fetch with a deadline that holds on a loaded 2-core machine (intake can stall for seconds there). */
async function call(url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(60_000),
    ...(body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

(node ? describe : describe.skip)(`the relay under load with frequent GCs (${node?.version ?? 'no Node 24+'})`, () => {
  const dir = tempDir('relay-gc-');
  let llm: FakeServer;
  let web: FakeServer;
  let child: ChildProcess;
  let output = '';
  let url = '';
  const alive = () => child.exitCode === null && child.signalCode === null;
  const died = () => `the relay died (exit ${child.exitCode}, signal ${child.signalCode}):\n${output.slice(-3000)}`;

  beforeAll(async () => {
    llm = await FakeServer.start((request) => {
      const callback = request.json.callback_url;
      setTimeout(
        () => void call(callback, { ok: true, result: { n: request.json.submission_id } }).catch(() => undefined),
        1,
      );
      return { status: 202 };
    });
    web = await FakeServer.start(() => ({ status: 200 }));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(node!.path, ['--expose-gc', '--max-semi-space-size=1', '--require', GC_OFTEN, MAIN], {
      env: {
        ...process.env,
        ...FAST,
        // Quiet (no log line per request): readiness is polled instead of read from the log.
        LOG_LEVEL: 'warn',
        PORT: String(port),
        DATABASE_URL: `sqlite:///${dir}/relay.db`,
        LLM_API_URL: llm.url,
        INTAKE_RATE_LIMIT: '1000000',
        WORKER_CONCURRENCY: '64',
        SCHEDULER_INTERVAL_MS: '20',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(
      async () => {
        if (!alive()) throw new Error(died());
        return (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok;
      },
      'the relay to be ready',
      20_000,
    );
  });

  afterAll(async () => {
    if (child && alive()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await llm?.close();
    await web?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`stays alive through ${JOBS} jobs, many query shapes and an idle spell, delivers every job and stops cleanly`, async () => {
    const jobIds: string[] = [];
    let next = 0;
    const submitter = async () => {
      while (next < JOBS && alive()) {
        const i = next++;
        const answer = await call(`${url}/v1/reviews`, {
          submission_id: `gc-${i}`,
          file_refs: [{ url: 'https://files.example.com/x.pdf' }],
          metadata: { i },
          webhook_url: `${web.url}/hook`,
        });
        if (answer.status !== 202) throw new Error(`intake answered ${answer.status}: ${JSON.stringify(answer.json)}`);
        jobIds.push(answer.json.job_id);
      }
    };
    await Promise.all(Array.from({ length: 16 }, submitter)).catch((error: Error) => {
      throw new Error(alive() ? error.message : died());
    });
    expect(jobIds).toHaveLength(JOBS);

    // Every combination of the list's filters is a statement of its own: more than the driver caches.
    for (const status of ['', 'queued', 'processing', 'delivering', 'delivered', 'delivery_failed', 'cancelled']) {
      for (let mask = 0; mask < 16; mask += 1) {
        const query = new URLSearchParams({ limit: String(1 + (mask & 1) * 49) });
        if (status) query.set('status', status);
        if (mask & 2) query.set('submission_id', 'gc-1');
        if (mask & 4) query.set('created_after', '2020-01-01T00:00:00Z');
        if (mask & 8) query.set('include_total', 'true');
        const list = await call(`${url}/v1/reviews?${query}`).catch((error: Error) => {
          throw new Error(alive() ? error.message : died());
        });
        expect(list.status).toBe(200);
      }
    }

    await eventually(
      async () => {
        if (!alive()) throw new Error(died());
        return (await call(`${url}/v1/reviews?status=delivered&limit=1&include_total=true`)).json.total === JOBS;
      },
      `all ${JOBS} jobs delivered`,
      150_000,
    );

    // The idle spell: the forced GCs go on with nothing else to do.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    if (!alive()) throw new Error(died());
    expect((await call(`${url}/health/live`)).status).toBe(200);
    const received = new Set(web.requests.map((request) => request.json?.job_id));
    expect(jobIds.filter((id) => !received.has(id))).toEqual([]);

    // Teardown at exit is the other place a collected statement used to abort.
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    );
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    expect(output).not.toMatch(/Assertion failed|Segmentation fault/);
  }, 300_000);
});
