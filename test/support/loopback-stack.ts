import { FakeServer, type FakeHandler } from './fake-server';
import { type RunningRelay, startRelay } from './relay';
import { RelayClient } from './relay-client';
import { RelayProcess } from './relay-process';

export interface StackOptions {
  /** The relay's environment on top of the fast test settings and LLM_API_URL. */
  env?: NodeJS.ProcessEnv;
  /**
   * The fake LLM: default, it accepts every forward (202) and never calls back (the test plays the LLM). `false`: no
   * fake LLM and no LLM_API_URL, so the relay uses its built-in simulated LLM.
   */
  llm?: FakeHandler | false;
  /** The fake web service: default, it answers 200. */
  web?: FakeHandler;
  /** `false`: the test starts the relay itself with `stack.start(env)`, after setting handlers or options. */
  relay?: boolean;
  /** Sent as X-API-Key by `stack.client`. */
  apiKey?: string;
}

const accept: FakeHandler = () => ({ status: 202 });
const ok: FakeHandler = () => ({ status: 200 });

/**
 * A relay between a fake LLM and a fake web service, all three real HTTP servers on loopback (and a real SQLite file),
 * with one `close()` for all: relays first (their scheduler drains), then the fakes. Extra relays started through it
 * (`startAnother`, or `startProcess` for the built relay as a process) close with it. Use `useLoopbackStack` to have Jest's hooks open and close it, `startLoopbackStack`
 * to hold one yourself (`await using` or `close()`).
 */
export class LoopbackStack {
  private fakeLlm: FakeServer | undefined;
  private fakeWeb: FakeServer | undefined;
  private main: RunningRelay | undefined;
  private mainClient: RelayClient | undefined;
  private readonly relays: RunningRelay[] = [];
  private readonly processes: RelayProcess[] = [];

  constructor(private readonly options: StackOptions = {}) {}

  get llm(): FakeServer {
    if (!this.fakeLlm)
      throw new Error(this.options.llm === false ? 'this stack has no fake LLM' : 'the stack is not open');
    return this.fakeLlm;
  }

  get web(): FakeServer {
    if (!this.fakeWeb) throw new Error('the stack is not open');
    return this.fakeWeb;
  }

  get relay(): RunningRelay {
    if (!this.main) throw new Error('the relay is not started: call stack.start(env) first');
    return this.main;
  }

  /** The relay's API, submitting jobs for `hook`. */
  get client(): RelayClient {
    if (!this.mainClient) throw new Error('the relay is not started: call stack.start(env) first');
    return this.mainClient;
  }

  /** The fake web service's delivery URL. */
  get hook(): string {
    return `${this.web.url}/hook`;
  }

  /** Starts the fakes, and the relay unless `relay: false`. */
  async open(): Promise<this> {
    if (this.options.llm !== false) this.fakeLlm = await FakeServer.start(this.options.llm ?? accept);
    this.fakeWeb = await FakeServer.start(this.options.web ?? ok);
    if (this.options.relay !== false) await this.start();
    return this;
  }

  /** Starts the stack's relay with `env` on top of the stack's own (on the SQLite file in `keepDir`, kept after). */
  async start(env: NodeJS.ProcessEnv = {}, keepDir?: string): Promise<RunningRelay> {
    if (this.main) throw new Error('the stack has a relay already: use startAnother for a second one');
    this.main = await this.startAnother(env, keepDir);
    this.mainClient = this.clientFor(this.main);
    return this.main;
  }

  /** One more relay on the same fakes (a replica, or one with other settings), closed with the stack. */
  async startAnother(env: NodeJS.ProcessEnv = {}, keepDir?: string): Promise<RunningRelay> {
    const llmUrl = this.fakeLlm ? { LLM_API_URL: this.fakeLlm.url } : {};
    const relay = await startRelay({ ...llmUrl, ...this.options.env, ...env }, keepDir);
    this.relays.push(relay);
    return relay;
  }

  /**
   * The built relay (`node dist/main.js`) as a process on the same fakes, killed with the stack unless the test has
   * stopped it. `env` needs a DATABASE_URL of the test's own when several are started on one file in turn.
   */
  async startProcess(env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<RelayProcess> {
    const llmUrl = this.fakeLlm ? { LLM_API_URL: this.fakeLlm.url } : {};
    const relay = await RelayProcess.start({ ...llmUrl, ...this.options.env, ...env }, cwd);
    this.processes.push(relay);
    return relay;
  }

  /** A client of `relay` (in process or a process) that submits jobs for this stack's web service. */
  clientFor(relay: { url: string }): RelayClient {
    return new RelayClient(relay.url, { webhookUrl: this.hook, apiKey: this.options.apiKey });
  }

  /** Idempotent; every part is closed even if one fails, and the first failure is thrown. */
  async close(): Promise<void> {
    const closers: Array<() => unknown> = [
      ...this.processes
        .splice(0)
        .reverse()
        .map((relay) => () => relay.kill()),
      ...this.relays
        .splice(0)
        .reverse()
        .map((relay) => () => relay.close()),
      () => this.fakeLlm?.close(),
      () => this.fakeWeb?.close(),
    ];
    this.main = undefined;
    this.mainClient = undefined;
    const errors: unknown[] = [];
    for (const close of closers)
      await Promise.resolve()
        .then(close)
        .catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Opens a stack now; the caller closes it. */
export function startLoopbackStack(options: StackOptions = {}): Promise<LoopbackStack> {
  return new LoopbackStack(options).open();
}

/**
 * A stack opened and closed by Jest's hooks: once for the describe block (`'all'`, the default) or fresh for each test
 * (`'each'`). The returned object is usable from the hooks and tests on.
 */
export function useLoopbackStack(options: StackOptions = {}, scope: 'all' | 'each' = 'all'): LoopbackStack {
  const stack = new LoopbackStack(options);
  const [before, after] = scope === 'all' ? [beforeAll, afterAll] : [beforeEach, afterEach];
  before(async () => {
    await stack.open();
  });
  after(() => stack.close());
  return stack;
}
