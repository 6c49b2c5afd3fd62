import * as net from 'node:net';
import { gzipSync } from 'node:zlib';
import { DataSource } from 'typeorm';
import { closeAfterEach } from '../support/cleanup';
import { callingBackLlm, FakeServer, postJson } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { reviewBody } from '../support/relay-client';

describe('SSRF guard (ALLOW_PRIVATE_WEBHOOK_URLS=false)', () => {
  const stack = useLoopbackStack({ env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'false' } });

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
    const response = await stack.relay.http
      .post('/v1/reviews')
      .send(reviewBody(url, { submission_id: 'ssrf' }))
      .expect(422);
    expect(response.body).toMatchObject({ statusCode: 422, code: 'webhook_url_not_allowed' });
    expect(await stack.client.total({ submission_id: 'ssrf' })).toBe(0);
  });

  it('checks again at connect time, and a blocked destination fails at once without retries', async () => {
    // A name that does not resolve at intake passes; then "DNS changes" to loopback, as a rebinding attack would.
    const jobId = await stack.client.submit({ webhook_url: 'http://rebind.invalid/hook' });
    await stack.client.waitForStatus(jobId, 'processing');
    await stack.relay.app.get(DataSource).query('UPDATE jobs SET webhook_url = ? WHERE id = ?', [stack.hook, jobId]);
    await stack.relay.http.post(`/simulate-llm/${jobId}`).expect(200);
    const job = await stack.client.waitForStatus(jobId, 'delivery_failed');
    expect(job.delivery).toMatchObject({
      attempts: 1,
      last_status_code: null,
      last_error: expect.stringMatching(/^blocked/),
    });
    expect(stack.web.requests).toHaveLength(0);
  });
});

describe('hostile receivers', () => {
  // The default test deadline (2 s): room for a loaded machine; the trickling receiver below never finishes anyway.
  const stack = useLoopbackStack({ llm: callingBackLlm({ x: 1 }), env: { CALLBACK_MAX_RETRIES: '1' } });
  const later = closeAfterEach();

  async function finalState(webhookUrl: string): Promise<any> {
    return stack.client.waitForStatus(await stack.client.submit({ webhook_url: webhookUrl }), [
      'delivered',
      'delivery_failed',
    ]);
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
    later(() => server.close());
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
    later(() => server.close());
    expect((await finalState(`http://127.0.0.1:${server.port}/hook`)).status).toBe('delivered');
  });

  it('gives up on a receiver that trickles its answer past the deadline', async () => {
    // One byte of an endless header every 200 ms: each read resets an inactivity timer, only a total deadline ends it.
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nX-Trickle: ');
      const timer = setInterval(() => socket.write('a'), 200);
      socket.on('close', () => clearInterval(timer));
    });
    later(() => server.close());
    const job = await finalState(`http://127.0.0.1:${server.port}/hook`);
    expect(job).toMatchObject({
      status: 'delivery_failed',
      delivery: { attempts: 2, last_error: 'deadline exceeded' },
    });
  });

  it('retries a receiver that refuses connections, then gives up visibly', async () => {
    const closed = await rawServer(() => undefined);
    await closed.close();
    const job = await finalState(`http://127.0.0.1:${closed.port}/hook`);
    expect(job).toMatchObject({
      status: 'delivery_failed',
      delivery: { attempts: 2, last_error: expect.stringContaining('ECONNREFUSED') },
    });
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
  const stack = useLoopbackStack({
    llm: false,
    env: {
      CALLBACK_MAX_BODY_BYTES: '2048',
      INTAKE_RATE_LIMIT: '3',
      INTAKE_RATE_WINDOW_SECONDS: '60',
      RELAY_API_KEYS: 'k1,k2',
    },
  });

  it('limits the callback body separately (413)', async () => {
    const answer = await postJson(`${stack.relay.url}/v1/llm/callback/job_x?token=t`, {
      ok: true,
      result: 'x'.repeat(4096),
    });
    expect(answer).toMatchObject({ status: 413, json: { code: 'payload_too_large' } });
  });

  it('rate-limits intake per API key with 429 and Retry-After', async () => {
    const body = reviewBody('http://127.0.0.1:9/hook');
    for (let i = 0; i < 3; i += 1)
      await stack.relay.http.post('/v1/reviews').set('x-api-key', 'k1').send(body).expect(202);
    const limited = await stack.relay.http.post('/v1/reviews').set('x-api-key', 'k1').send(body).expect(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await stack.relay.http.post('/v1/reviews').set('x-api-key', 'k2').send(body).expect(202);
    await stack.relay.http.get('/v1/reviews').set('x-api-key', 'k1').expect(200);
    await stack.relay.http.get('/health/ready').expect(200);
  });

  it('sends security headers', async () => {
    const response = await stack.relay.http.get('/health/live').expect(200);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['content-security-policy']).toBeDefined();
  });
});

async function rawServer(
  onConnection: (socket: net.Socket) => unknown,
): Promise<{ port: number; close(): Promise<void> }> {
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
