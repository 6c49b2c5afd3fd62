import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { closeAfterEach } from '../support/cleanup';
import { eventually, FakeServer } from '../support/fake-server';
import { tempDir } from '../support/relay';
import { RelayClient } from '../support/relay-client';
import { RelayProcess, runUntilExit } from '../support/relay-process';

describe('the relay process', () => {
  const dir = tempDir('relay-process-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const later = closeAfterEach();

  it('stops at start on a bad variable, naming it', async () => {
    const { code, output } = await runUntilExit({ CALLBACK_MAX_RETRIES: 'lots', PORT: '99999' });
    expect(code).not.toBe(0);
    expect(output).toContain('CALLBACK_MAX_RETRIES must be a whole number');
    expect(output).toContain('PORT must be');
  });

  it('refuses insecure defaults in production', async () => {
    const { code, output } = await runUntilExit({ NODE_ENV: 'production', DATABASE_URL: `sqlite:///${dir}/prod.db` });
    expect(code).not.toBe(0);
    expect(output).toMatch(/CALLBACK_HMAC_SECRET/);
    expect(output).toMatch(/RELAY_API_KEYS/);
    expect(output).toMatch(/LLM_API_URL/);
    expect(fs.existsSync(`${dir}/prod.db`)).toBe(false);
  });

  it('creates the SQLite file from a relative DATABASE_URL and exits 0 on SIGTERM after finishing in-flight work', async () => {
    const web = await FakeServer.start(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { status: 200 };
    });
    later(() => web.close());
    const relay = await RelayProcess.start({ DATABASE_URL: 'sqlite:///nested/relay.db' }, dir);
    later(() => relay.kill());
    expect(fs.existsSync(`${dir}/nested/relay.db`)).toBe(true);
    expect(relay.output).toContain(`"msg":"database: SQLite file ${dir}/nested/relay.db"`);
    const jobId = await new RelayClient(relay.url, { webhookUrl: `${web.url}/hook` }).submit({
      submission_id: 'sigterm',
    });
    await eventually(() => web.for(jobId).length > 0, 'the delivery to start');
    relay.signal('SIGTERM');
    expect(await relay.exited()).toBe(0);
    expect(relay.output).not.toMatch(/releasing \d+ unfinished/);
    expect(relay.output).toMatch(/delivery job=\S+ attempt=1 status=200 outcome=success ms=/);
  });

  it('refuses a port already in use with a message naming PORT and HOST, no stack, and no success line', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const { code, output } = await runUntilExit({
        PORT: String(port),
        DATABASE_URL: `sqlite:///${dir}/port.db`,
        LOG_LEVEL: 'info',
      });
      expect(code).not.toBe(0);
      expect(output).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(output).toMatch(/set PORT \(or HOST\)/);
      expect(output).not.toMatch(/successfully started|listening on/);
      expect(output).not.toMatch(/\n\s+at \S/);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("keeps an idle keep-alive connection past Node's 5 s default, so a client reusing it is answered", async () => {
    const relay = await RelayProcess.start({ DATABASE_URL: `sqlite:///${dir}/keep-alive.db` });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent, `${relay.url}/health/live`);
      expect(first).toMatchObject({ status: 200, reused: false, keepAlive: 'timeout=65' });
      // The one deliberate wait, the behaviour under test: idle longer than Node's default keepAliveTimeout (5 s), as an
      // LLM between callbacks. It ends at once, failing, if the relay closes the connection meanwhile.
      await idleFor(first.socket, 6000);
      const second = await get(agent, `${relay.url}/health/live`);
      expect(second).toMatchObject({ status: 200, reused: true });
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
      await relay.kill();
    }
  });
});

/** Resolves after `ms` of idleness; rejects as soon as the server closes `socket`. */
function idleFor(socket: net.Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const closed = () => {
      clearTimeout(timer);
      reject(new Error(`the relay closed the idle keep-alive connection within ${ms} ms`));
    };
    const timer = setTimeout(() => {
      socket.off('close', closed);
      resolve();
    }, ms);
    socket.once('close', closed);
  });
}

function get(
  agent: http.Agent,
  url: string,
): Promise<{ status: number; reused: boolean; keepAlive?: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          reused: request.reusedSocket,
          keepAlive: String(response.headers['keep-alive']),
          socket,
        }),
      );
    });
    request.on('socket', (assigned: net.Socket) => (socket = assigned));
    request.on('error', reject);
  });
}
