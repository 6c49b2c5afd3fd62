import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeAfterEach } from './cleanup';
import { callingBackLlm, eventually, FakeServer, type FakeHandler } from './fake-server';
import { type LoopbackStack, startLoopbackStack } from './loopback-stack';
import { type RunningRelay } from './relay';
import { type RelayClient } from './relay-client';

/** One entry of LLM_SERVERS. */
export interface ServerEntry {
  name: string;
  url: string;
  max_in_flight?: number;
  weight?: number;
  cancel_path?: string;
  health_path?: string;
  api_key_env?: string;
}

/**
 * An LLM server that can be broken: while `broken`, every connection is reset as it opens (counted in
 * `connections`); otherwise it answers as `handler` says, like a FakeServer.
 */
export class BreakableServer {
  broken = true;
  connections = 0;
  readonly fake: FakeServer;
  private readonly server: http.Server;

  private constructor(fake: FakeServer, server: http.Server) {
    this.fake = fake;
    this.server = server;
  }

  static async start(handler: FakeHandler = callingBackLlm()): Promise<BreakableServer> {
    const fake = await FakeServer.start(handler);
    // A front on its own port: resets while broken, hands the request to the fake otherwise.
    const front = http.createServer((req, res) => {
      const upstream = http.request(`${fake.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    const breakable = new BreakableServer(fake, front);
    front.on('connection', (socket) => {
      breakable.connections += 1;
      if (breakable.broken) socket.resetAndDestroy();
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    return breakable;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    await this.fake.close();
  }
}

/** A relay (or two, on one database) in front of a fleet of fake LLM servers, closed after the test. */
export async function startFleet(
  servers: ServerEntry[],
  later: ReturnType<typeof closeAfterEach>,
  env: NodeJS.ProcessEnv = {},
  replicas = 1,
): Promise<{ stack: LoopbackStack; relays: RunningRelay[]; clients: RelayClient[] }> {
  const stack = await startLoopbackStack({
    llm: false,
    relay: false,
    env: { LLM_SERVERS: JSON.stringify(servers), ...env },
  });
  later(() => stack.close());
  const relays = [await stack.start()];
  for (let i = 1; i < replicas; i += 1) relays.push(await stack.startAnother());
  return { stack, relays, clients: relays.map((relay) => stack.clientFor(relay)) };
}

/** `count` jobs, submitted in turn through `clients`; their ids. */
export async function submitMany(clients: RelayClient[], count: number, prefix = 'fleet'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1)
    ids.push(await clients[i % clients.length].submit({ submission_id: `${prefix}-${i}` }));
  return ids;
}

/** Waits until every job was delivered to the stack's web service. */
export async function allDelivered(stack: LoopbackStack, ids: string[], timeoutMs = 20_000): Promise<void> {
  await eventually(() => ids.every((id) => stack.web.for(id).length > 0), `${ids.length} deliveries`, timeoutMs);
}
