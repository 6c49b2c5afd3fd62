import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { closeAfterEach } from '../support/cleanup';
import { eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';

/** pino's error and fatal levels, and the frames of a stack trace. */
const ERROR_LINE = /"level":(50|60)/;
const STACK_FRAME = /\n\s+at \S/;

describe('health and stop of the relay process', () => {
  const dir = tempDir('relay-stop-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Declared first, so that it runs before the stack closes (a held delivery is let go first).
  const later = closeAfterEach();
  // The built-in simulated LLM; each test gives the receiver its handler and starts the relay as a process.
  const stack = useLoopbackStack({ llm: false, relay: false }, 'each');

  it('stays live while draining, turns only readiness 503 (not logged as an error), and says when it has stopped', async () => {
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    later(() => finish());
    stack.web.handler = async () => {
      await finished;
      return { status: 200 };
    };
    const relay = await stack.startProcess({ DATABASE_URL: `sqlite:///${dir}/drain.db`, SHUTDOWN_GRACE_SECONDS: '30' });
    const jobId = await stack.clientFor(relay).submit();
    await eventually(() => stack.web.for(jobId).length > 0, 'the delivery in flight');
    relay.signal('SIGTERM');

    const ready = await eventually(async () => {
      const answer = await fetch(`${relay.url}/health/ready`);
      return answer.status === 503 && answer;
    }, 'readiness 503 while draining');
    expect(await ready.json()).toMatchObject({ statusCode: 503, code: 'not_ready' });
    const live = await fetch(`${relay.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok' });

    finish();
    expect(await relay.exited()).toBe(0);
    expect(stack.web.for(jobId)).toHaveLength(1);
    const lines = relay.output.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(/"msg":"stopped: drained and closed in \d+ ms"/);
    expect(relay.output).not.toMatch(ERROR_LINE);
    expect(relay.output).not.toMatch(STACK_FRAME);
    expect(relay.output).not.toContain('unhandled error');
  });

  it('answers expected client errors without logging them as errors', async () => {
    const relay = await stack.startProcess({ DATABASE_URL: `sqlite:///${dir}/client-errors.db` });
    const client = stack.clientFor(relay);
    expect((await client.get(`/v1/reviews/job_${'0'.repeat(32)}`)).status).toBe(404);
    expect((await client.post('/v1/reviews', { unknown: 1 })).status).toBe(400);
    expect((await client.get('/no-such-route')).status).toBe(404);
    relay.signal('SIGTERM');
    expect(await relay.exited()).toBe(0);
    expect(relay.output).not.toMatch(ERROR_LINE);
    expect(relay.output).not.toMatch(STACK_FRAME);
  });

  it('does not wait out the keep-alive timeout for a connection whose request spans the server closing', async () => {
    stack.web.handler = () => ({ hang: true });
    const relay = await stack.startProcess({
      DATABASE_URL: `sqlite:///${dir}/spanning.db`,
      SHUTDOWN_GRACE_SECONDS: '0.5',
    });
    const agent = new http.Agent({ keepAlive: true });
    later(() => agent.destroy());
    const jobId = await stack.clientFor(relay).submit();
    await eventually(() => stack.web.for(jobId).length > 0, 'the delivery in flight');
    // A callback whose body is still on its way when the drain begins and the server stops listening.
    const body = JSON.stringify({ ok: true, result: { score: 1 } });
    let answered: (status: number) => void = () => undefined;
    const answer = new Promise<number>((resolve) => (answered = resolve));
    const callback = http.request(
      `${relay.url}/v1/llm/callback/${jobId}?token=wrong`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        answered(response.statusCode ?? 0);
      },
    );
    const connected = new Promise((resolve) =>
      callback.once('socket', (socket: net.Socket) => socket.once('connect', resolve)),
    );
    callback.write(body.slice(0, 5));
    await connected;
    relay.signal('SIGTERM');
    await eventually(() => refusesConnections(new URL(relay.url)), 'the server to stop listening');
    callback.end(body.slice(5));
    expect(await answer).toBe(401);
    const exited = relay.exited();
    // Well under the 65 s keep-alive it would otherwise wait out, with room for a loaded machine.
    const deadline = new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000).unref());
    expect(await Promise.race([exited, deadline])).toBe(0);
  });
});

function refusesConnections(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
