import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

/** What a truthy check gives back: never false, null, undefined, 0 or ''. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
}

export type FakeHandler = (request: RecordedRequest, index: number) => FakeReply | Promise<FakeReply>;

/** A real loopback HTTP server standing in for the LLM or the web service; records every request it gets. */
export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  private server!: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  private closing: Promise<void> | undefined;
  private port = 0;

  private constructor(public handler: FakeHandler) {}

  static async start(handler: FakeHandler = () => ({ status: 200 })): Promise<FakeServer> {
    const fake = new FakeServer(handler);
    fake.server = http.createServer((req, res) => fake.onRequest(req, res));
    fake.server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** Where it listens; still known once closed (a test may point the relay at a closed port). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests whose JSON body has this job_id. */
  for(jobId: string): RecordedRequest[] {
    return this.requests.filter((request) => request.json?.job_id === jobId);
  }

  /** Idempotent, so a test may close early and a cleanup hook close again. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void this.reply(req, res, Buffer.concat(chunks).toString('utf8')));
  }

  private async reply(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    {
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : null;
      } catch {
        json = null;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
        at: Date.now(),
      };
      this.requests.push(recorded);
      const reply = await this.handler(recorded, this.requests.length - 1);
      if (reply.hang) return;
      const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(payload);
    }
  }
}

/** Polls until `check` returns a truthy value, and returns it; fails with `what` after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** POSTs JSON to a URL from the test (as the LLM server would call the relay back). */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(15_000),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** An LLM server that accepts each job and calls back with `result` right after answering. */
export function callingBackLlm(result: unknown = { score: 0.86, feedback: 'Good structure' }): FakeHandler {
  return (request) => {
    setTimeout(() => void postJson(request.json.callback_url, { ok: true, result }).catch(() => undefined), 5);
    return { status: 202, body: { accepted: true } };
  };
}

/** A loopback port free right now (for a process that must keep one port across restarts). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
