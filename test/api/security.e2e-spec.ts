import * as net from 'node:net';
import { gzipSync } from 'node:zlib';
import { DataSource } from 'typeorm';
import { closeAfterEach } from '../support/cleanup';
import { eventually, FakeServer, postJson } from '../support/fake-server';
import { reviewBody, RunningRelay, startRelay } from '../support/relay';

describe('SSRF guard (ALLOW_PRIVATE_WEBHOOK_URLS=false)', () => {
  let llm: FakeServer;
  let web: FakeServer;
  let relay: RunningRelay;

  beforeAll(async () => {
    llm = await FakeServer.start(() => ({ status: 202 }));
    web = await FakeServer.start();
    relay = await startRelay({ LLM_API_URL: llm.url, ALLOW_PRIVATE_WEBHOOK_URLS: 'false' });
  });

  afterAll(async () => {
    await relay.close();
    await llm.close();
    await web.close();
  });

  it.each([
    'http://localhost:8080/hook',
    'http://127.1/hook',
    'http://2130706433/hook',
    'http://0x7f000001/hook',
    'http://0.0.0.0/hook',
    'http://[::]/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://[64:ff9b::7f00:1]/hook',
    'http://[2002:7f00:1::]/hook',
    'http://[::7f00:1]/hook',
    'http://100.64.1.1/hook',
    'http://10.0.0.8/hook',
  ])('refuses %s at intake with 422 and stores nothing', async (url) => {
    const response = await relay.http.post('/v1/reviews').send(reviewBody(url, { submission_id: 'ssrf' })).expect(422);
    expect(response.body).toMatchObject({ statusCode: 422, code: 'webhook_url_not_allowed' });
    expect((await relay.http.get('/v1/reviews').query({ submission_id: 'ssrf', include_total: 'true' })).body.total).toBe(0);
  });

  it('checks again at connect time, and a blocked destination fails at once without retries', async () => {
    // A name that does not resolve at intake passes; then "DNS changes" to loopback, as a rebinding attack would.
    const accepted = await relay.http.post('/v1/reviews').send(reviewBody('http://rebind.invalid/hook')).expect(202);
    const jobId = accepted.body.job_id;
    await eventually(async () => (await relay.http.get(`/v1/reviews/${jobId}`)).body.status === 'processing', 'processing');
    await relay.app.get(DataSource).query('UPDATE jobs SET webhook_url = ? WHERE id = ?', [`${web.url}/hook`, jobId]);
    await relay.http.post(`/simulate-llm/${jobId}`).expect(200);
    const job = await eventually(async () => {
      const current = (await relay.http.get(`/v1/reviews/${jobId}`)).body;
      return current.status === 'delivery_failed' && current;
    }, 'delivery_failed');
    expect(job.delivery).toMatchObject({ attempts: 1, last_status_code: null, last_error: expect.stringMatching(/^blocked/) });
    expect(web.requests).toHaveLength(0);
  });
});

describe('hostile receivers', () => {
  let llm: FakeServer;
  let relay: RunningRelay;
  const later = closeAfterEach();

  beforeAll(async () => {
    llm = await FakeServer.start((request) => {
      setTimeout(() => void postJson(request.json.callback_url, { ok: true, result: { x: 1 } }).catch(() => undefined), 5);
      return { status: 202 };
    });
    // The default test deadline (2 s): room for a loaded machine; the trickling receiver below never finishes anyway.
    relay = await startRelay({ LLM_API_URL: llm.url, CALLBACK_MAX_RETRIES: '1' });
  });

  afterAll(async () => {
    await relay.close();
    await llm.close();
  });

  async function finalState(webhookUrl: string): Promise<any> {
    const jobId = (await relay.http.post('/v1/reviews').send(reviewBody(webhookUrl)).expect(202)).body.job_id;
    return eventually(async () => {
      const job = (await relay.http.get(`/v1/reviews/${jobId}`)).body;
      return (job.status === 'delivered' || job.status === 'delivery_failed') && job;
    }, 'a final state');
  }

  it('does not read a huge answer: the status decides, and the connection is dropped after the headers', async () => {
    const size = 256 * 1024 * 1024;
    let written = 0;
    let closed: Promise<unknown> = Promise.resolve();
    const server = await rawServer(async (socket) => {
      closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${size}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      // Back-pressure: this loop advances only as fast as the relay takes the bytes.
      while (written < size && !socket.destroyed) {
        written += chunk.length;
        if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
      }
    });
    later(server.close);
    expect((await finalState(`http://127.0.0.1:${server.port}/hook`)).status).toBe('delivered');
    await closed;
    expect(written).toBeLessThan(size);
  });

  it('does not inflate a gzip-bomb answer: the status decides', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const server = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`);
      socket.end(bomb);
    });
    later(server.close);
    expect((await finalState(`http://127.0.0.1:${server.port}/hook`)).status).toBe('delivered');
  });

  it('gives up on a receiver that trickles its answer past the deadline', async () => {
    // One byte of an endless header every 200 ms: each read resets an inactivity timer, only a total deadline ends it.
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nX-Trickle: ');
      const timer = setInterval(() => socket.write('a'), 200);
      socket.on('close', () => clearInterval(timer));
    });
    later(server.close);
    const job = await finalState(`http://127.0.0.1:${server.port}/hook`);
    expect(job).toMatchObject({ status: 'delivery_failed', delivery: { attempts: 2, last_error: 'deadline exceeded' } });
  });

  it('retries a receiver that refuses connections, then gives up visibly', async () => {
    const closed = await rawServer(() => undefined);
    await closed.close();
    const job = await finalState(`http://127.0.0.1:${closed.port}/hook`);
    expect(job).toMatchObject({ status: 'delivery_failed', delivery: { attempts: 2, last_error: expect.stringContaining('ECONNREFUSED') } });
  });

  it('ignores HTTP_PROXY and HTTPS_PROXY', async () => {
    const proxy = await FakeServer.start(() => ({ status: 200 }));
    later(() => proxy.close());
    const web = await FakeServer.start();
    later(() => web.close());
    process.env.HTTP_PROXY = proxy.url;
    process.env.http_proxy = proxy.url;
    try {
      expect((await finalState(`${web.url}/hook`)).status).toBe('delivered');
    } finally {
      delete process.env.HTTP_PROXY;
      delete process.env.http_proxy;
    }
    expect(proxy.requests).toHaveLength(0);
    expect(web.requests).toHaveLength(1);
  });
});

describe('request hygiene', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    relay = await startRelay({ CALLBACK_MAX_BODY_BYTES: '2048', INTAKE_RATE_LIMIT: '3', INTAKE_RATE_WINDOW_SECONDS: '60', RELAY_API_KEYS: 'k1,k2' });
  });

  afterAll(() => relay.close());

  it('limits the callback body separately (413)', async () => {
    const answer = await postJson(`${relay.url}/v1/llm/callback/job_x?token=t`, { ok: true, result: 'x'.repeat(4096) });
    expect(answer).toMatchObject({ status: 413, json: { code: 'payload_too_large' } });
  });

  it('rate-limits intake per API key with 429 and Retry-After', async () => {
    const body = reviewBody('http://127.0.0.1:9/hook');
    for (let i = 0; i < 3; i += 1) await relay.http.post('/v1/reviews').set('x-api-key', 'k1').send(body).expect(202);
    const limited = await relay.http.post('/v1/reviews').set('x-api-key', 'k1').send(body).expect(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await relay.http.post('/v1/reviews').set('x-api-key', 'k2').send(body).expect(202);
    await relay.http.get('/v1/reviews').set('x-api-key', 'k1').expect(200);
    await relay.http.get('/health/ready').expect(200);
  });

  it('sends security headers', async () => {
    const response = await relay.http.get('/health/live').expect(200);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['content-security-policy']).toBeDefined();
  });
});

async function rawServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => onConnection(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
