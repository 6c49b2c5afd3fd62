import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trustedAgents, destroyAgents } from './http-agents';
import { postJson } from './outbound-http';

/** The outbound client against a real loopback server: what it reads, what it reuses, when it gives up. */
describe('postJson', () => {
  const agents = trustedAgents();
  const sockets = new Set<unknown>();
  let server: http.Server;
  let url: string;
  let reply: (req: http.IncomingMessage, res: http.ServerResponse) => void;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => reply(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    destroyAgents(agents);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => sockets.clear());

  const post = (deadlineMs = 2000) =>
    postJson({ url, body: '{"a":1}', headers: { 'x-test': '1' }, deadlineMs, agents });

  it('reuses one keep-alive connection for answers with small bodies', async () => {
    reply = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    for (let i = 0; i < 5; i++) expect((await post()).statusCode).toBe(200);
    expect(sockets.size).toBe(1);
  });

  it('takes the status and Retry-After of a huge answer without reading it, and closes that connection', async () => {
    reply = (_req, res) => {
      res.writeHead(503, { 'retry-after': '7' });
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let i = 0; i < 20; i++) res.write(chunk);
      res.end();
    };
    expect(await post()).toMatchObject({ statusCode: 503, retryAfter: '7', error: null });
    reply = (_req, res) => res.writeHead(204).end();
    expect((await post()).statusCode).toBe(204);
    expect(sockets.size).toBe(2);
  });

  it('does not follow redirects and stops at the deadline', async () => {
    reply = (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    expect((await post()).statusCode).toBe(302);
    reply = () => undefined;
    const started = Date.now();
    expect(await post(200)).toMatchObject({ statusCode: null, error: 'deadline exceeded' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports a refused connection as an outcome, not an exception', async () => {
    const closed = await postJson({
      url: 'http://127.0.0.1:9/hook',
      body: '{}',
      headers: {},
      deadlineMs: 2000,
      agents,
    });
    expect(closed).toMatchObject({ statusCode: null, error: expect.stringContaining('ECONNREFUSED') });
  });
});
