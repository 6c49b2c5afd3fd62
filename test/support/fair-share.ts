import { closeAfterEach } from './cleanup';
import { eventually } from './fake-server';
import { HoldingLlm } from './holding-llm';
import { type LoopbackStack, startLoopbackStack } from './loopback-stack';
import { type RunningRelay } from './relay';
import { type RelayClient } from './relay-client';
import { Admin, bearer, type CreatedClient, newEncryptionKey } from './signing';

const ADMIN_KEY = 'admin-key-fair-share-0123456789abcdef';

export interface FairShareTarget {
  /** How many relays share the work (2: replicas on one PostgreSQL database). */
  replicas: number;
  /** The database of one test (a fresh PostgreSQL database, or nothing for the stack's own SQLite file). */
  database(): Promise<{ env: NodeJS.ProcessEnv; drop(): Promise<void> }>;
}

/** One test's relays around a HoldingLlm, its clients, and who submitted what. */
export class FairStack {
  readonly llm = new HoldingLlm();
  readonly owner = new Map<string, string>();
  private stack!: LoopbackStack;
  private relays: RunningRelay[] = [];
  private turn = 0;
  admin!: Admin;

  constructor(private readonly target: FairShareTarget) {
    this.llm.groupOf = (jobId) => this.owner.get(jobId) ?? 'unknown';
  }

  async open(env: NodeJS.ProcessEnv, later: (close: () => unknown) => void): Promise<this> {
    const database = await this.target.database();
    later(() => database.drop());
    this.stack = await startLoopbackStack({
      llm: this.llm.handler,
      relay: false,
      env: { RELAY_ADMIN_KEYS: ADMIN_KEY, RELAY_ENCRYPTION_KEY: newEncryptionKey(), ...database.env, ...env },
    });
    later(() => this.stack.close());
    this.relays = [await this.stack.start()];
    for (let i = 1; i < this.target.replicas; i += 1) this.relays.push(await this.stack.startAnother());
    this.admin = new Admin(this.relays[0].url, ADMIN_KEY);
    return this;
  }

  async client(name: string, settings: Record<string, unknown> = {}): Promise<CreatedClient> {
    const created = await this.admin.createClient(name);
    if (Object.keys(settings).length > 0) await this.patch(created.client_id, settings);
    return created;
  }

  async patch(clientId: string, settings: Record<string, unknown>): Promise<void> {
    const answer = await this.admin.patch(`/v1/clients/${clientId}`, settings);
    if (answer.status !== 200) throw new Error(`PATCH answered ${answer.status}: ${answer.text}`);
  }

  /** The next relay in turn, so that with replicas the submissions (and their kicks) come through all of them. */
  api(): RelayClient {
    const relay = this.relays[this.turn++ % this.relays.length];
    return this.stack.clientFor(relay);
  }

  /** The relay at `index`. */
  apiOn(index: number): RelayClient {
    return this.stack.clientFor(this.relays[index]);
  }

  /** A GET with a client's own key. */
  async getAs(client: CreatedClient, path: string): Promise<any> {
    const response = await this.api().http.get(path).set('authorization', `Bearer ${client.api_key}`);
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${response.text}`);
    return response.body;
  }

  /** `count` jobs of `client`, one after another (their order is their age); their ids. */
  async submit(client: CreatedClient, count: number, overrides: Record<string, unknown> = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = await this.api().submit(overrides, bearer(client.api_key));
      this.owner.set(id, client.client_id);
      ids.push(id);
    }
    return ids;
  }

  /** Whose the forwards from `from` on were, in order. */
  ownersOfForwards(from = 0): string[] {
    return this.llm.forwards.slice(from).map((id) => this.owner.get(id) ?? 'unknown');
  }

  /** Releases `count` held jobs one at a time, each followed by the forward its slot lets through. */
  async releaseEach(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) await this.llm.release();
  }
}

const tally = (owners: string[]) =>
  owners.reduce<Record<string, number>>((counts, owner) => ({ ...counts, [owner]: (counts[owner] ?? 0) + 1 }), {});

/**
 * The fair order, priorities and per-client limits against `target`: a HoldingLlm keeps the first forwards until the
 * test releases them, so the order of the forwards after each release is the relay's choice alone.
 */
export function describeFairShare(target: FairShareTarget): void {
  const later = closeAfterEach();
  const open = (env: NodeJS.ProcessEnv) => new FairStack(target).open(env, later);

  it("forwards another client's 4 jobs within the next 10 forwards, not behind the first one's 50", async () => {
    const fair = await open({ LLM_MAX_IN_FLIGHT: '2' });
    const [a, b] = [await fair.client('burst'), await fair.client('small')];
    await fair.submit(a, 50);
    await fair.llm.waitHolding(2);
    const bIds = await fair.submit(b, 4);
    expect(fair.llm.forwards).toHaveLength(2);
    // What waits and what is at the LLM, per client, in /metrics and in the summary.
    const metrics = (await fair.api().http.get('/metrics')).text;
    expect(metrics).toContain(`relay_client_jobs_waiting{client="${a.client_id}"} 48`);
    expect(metrics).toContain(`relay_client_jobs_waiting{client="${b.client_id}"} 4`);
    expect(metrics).toContain(`relay_client_jobs_in_flight{client="${a.client_id}"} 2`);
    const summary = (await fair.admin.get('/v1/reviews/summary')).body;
    expect(summary.clients).toEqual(
      expect.arrayContaining([
        { client_id: a.client_id, waiting: 48, in_flight: 2 },
        { client_id: b.client_id, waiting: 4, in_flight: 0 },
      ]),
    );
    expect((await fair.getAs(b, '/v1/reviews/summary')).clients).toEqual([
      { client_id: b.client_id, waiting: 4, in_flight: 0 },
    ]);
    await fair.releaseEach(10);
    const next = fair.llm.forwards.slice(2, 12);
    expect(next).toEqual(expect.arrayContaining(bIds));
    expect(fair.llm.peak).toBe(2);
  });

  it('gives weights 3 and 1 three forwards of every four while both wait', async () => {
    const fair = await open({ LLM_MAX_IN_FLIGHT: '2' });
    const a = await fair.client('weighty', { weight: 3 });
    const b = await fair.client('light');
    await fair.submit(a, 2);
    await fair.llm.waitHolding(2);
    await fair.submit(a, 40);
    await fair.submit(b, 40);
    await fair.releaseEach(32);
    const counts = tally(fair.ownersOfForwards(2));
    expect(counts[a.client_id] + counts[b.client_id]).toBe(32);
    expect(counts[a.client_id]).toBeGreaterThanOrEqual(22);
    expect(counts[a.client_id]).toBeLessThanOrEqual(26);
  });

  it("forwards a high-priority job next, ahead of 20 normal ones of its client, and never ahead of another's turn", async () => {
    const fair = await open({ LLM_MAX_IN_FLIGHT: '1' });
    const a = await fair.client('with priorities');
    await fair.submit(a, 1);
    await fair.llm.waitHolding(1);
    await fair.submit(a, 20);
    const [high] = await fair.submit(a, 1, { priority: 'high' });
    const [low] = await fair.submit(a, 1, { priority: 'low' });
    await fair.releaseEach(1);
    expect(fair.llm.forwards[1]).toBe(high);
    // The job shows its priority; low goes after every normal one.
    expect((await fair.admin.get(`/v1/reviews/${high}`)).body.priority).toBe('high');
    await fair.releaseEach(21);
    expect(fair.llm.forwards[22]).toBe(low);
    expect(fair.ownersOfForwards()).toEqual(Array(23).fill(a.client_id));
  });

  it('keeps a client within its own max_in_flight while the other uses the rest', async () => {
    const fair = await open({ LLM_MAX_IN_FLIGHT: '4' });
    const capped = await fair.client('capped', { max_in_flight: 1 });
    const free = await fair.client('free');
    await fair.submit(capped, 10);
    await fair.submit(free, 30);
    await fair.llm.waitHolding(4);
    expect(fair.llm.holding(capped.client_id)).toBe(1);
    expect(fair.llm.holding(free.client_id)).toBe(3);
    await fair.releaseEach(12);
    expect(fair.llm.peaks.get(capped.client_id)).toBe(1);
    expect(fair.llm.holding()).toBe(4);
  });

  it("a client's max_in_flight alone (no LLM_MAX_IN_FLIGHT) caps it, and the others are forwarded at once", async () => {
    const fair = await open({});
    const capped = await fair.client('capped alone', { max_in_flight: 2 });
    const free = await fair.client('uncapped');
    // Whether any client has a cap of its own is read at most once a second (settings apply within a second).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await fair.submit(capped, 6);
    await fair.submit(free, 6);
    await eventually(() => fair.llm.holding(free.client_id) === 6, 'every uncapped job at the LLM');
    expect(fair.llm.holding(capped.client_id)).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fair.llm.peaks.get(capped.client_id)).toBe(2);
  });

  it("counts queue_position among the caller's own jobs only", async () => {
    const fair = await open({ LLM_MAX_IN_FLIGHT: '1' });
    const a = await fair.client('long queue');
    const b = await fair.client('short queue');
    await fair.submit(a, 1);
    await fair.llm.waitHolding(1);
    await fair.submit(a, 10);
    const [bJob] = await fair.submit(b, 1);
    const [, aSecond] = await fair.submit(a, 2);
    expect(await fair.getAs(b, `/v1/reviews/${bJob}`)).toMatchObject({ status: 'queued', queue_position: 1 });
    expect(await fair.getAs(a, `/v1/reviews/${aSecond}`)).toMatchObject({ status: 'queued', queue_position: 12 });
  });

  it("refuses a client's intake beyond its max_backlog (503) and its intake_rate_limit (429), the other unaffected", async () => {
    const fair = await open({ LLM_MAX_IN_FLIGHT: '1', INTAKE_RATE_WINDOW_SECONDS: '60' });
    const full = await fair.client('small backlog', { max_backlog: 3 });
    const limited = await fair.client('rate limited', { intake_rate_limit: 2 });
    const other = await fair.client('unaffected');
    await fair.submit(full, 1);
    await fair.llm.waitHolding(1);
    await fair.submit(full, 3);
    // The backlog count is trusted for half a second: past it the fourth waiting job is refused.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const refused = await fair.api().submitAnswer({}, bearer(full.api_key));
    expect([refused.status, refused.body.code, refused.headers['retry-after']]).toEqual([503, 'backlog_full', '2']);
    expect(refused.body.message).toContain(full.client_id);
    expect((await fair.api().submitAnswer({}, bearer(other.api_key))).status).toBe(202);

    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await fair.apiOn(0).submitAnswer({}, bearer(limited.api_key)));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 429]);
    expect(answers[2].body.code).toBe('rate_limited');
    expect(answers[2].body.message).toContain(limited.client_id);
    expect(Number(answers[2].headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(answers[2].headers['retry-after'])).toBeLessThanOrEqual(60);
    if (target.replicas > 1) {
      // Counted by each replica, as INTAKE_RATE_LIMIT is.
      const elsewhere = await fair.apiOn(1).submitAnswer({}, bearer(limited.api_key));
      expect(elsewhere.status).toBe(202);
    }
    for (let i = 0; i < 3; i += 1) expect((await fair.api().submitAnswer({}, bearer(other.api_key))).status).toBe(202);
  });
}
