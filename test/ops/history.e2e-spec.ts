import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { JobQueriesRepository, type JobFilter } from '../../src/jobs/job-queries.repository';
import { RetentionSweeper } from '../../src/retention/retention.sweeper';
import { decodeCursor } from '../../src/reviews/list-cursor';
import { reportFigure } from '../support/figures';
import { useLoopbackStack } from '../support/loopback-stack';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { type RunningRelay } from '../support/relay';
import { metricValue } from '../support/relay-client';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fillHistory } = require('../../scripts/bench/history-fill') as {
  fillHistory: (query: (sql: string) => Promise<unknown>, options: Record<string, unknown>) => Promise<void>;
};

const DAY = 86_400_000;
const HISTORY = 20_000;
const metric = (text: string, name: string, labels: string) => metricValue(text, `${name}{${labels}}`);

async function countsMatchTable(db: DataSource): Promise<void> {
  const kept = await db.query(
    'SELECT status, SUM(job_count) AS job_count FROM job_counts GROUP BY status HAVING SUM(job_count) <> 0 ORDER BY status',
  );
  const counted = await db.query('SELECT status, COUNT(*) AS job_count FROM jobs GROUP BY status ORDER BY status');
  expect(kept.map((row: any) => [row.status, Number(row.job_count)])).toEqual(
    counted.map((row: any) => [row.status, Number(row.job_count)]),
  );
}

/** Every page of a listing, following next_cursor. */
async function allPages(relay: RunningRelay, query: Record<string, string | number>): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = (
      await relay.http
        .get('/v1/reviews')
        .query({ ...query, ...(cursor ? { cursor } : {}) })
        .expect(200)
    ).body;
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

describe('a large history on SQLite', () => {
  // The built-in simulated LLM never calls back by itself here (a minute's delay): the test feeds the one result it
  // needs through /simulate-llm, which would otherwise race the simulation's own callback and lose on a busy machine.
  const stack = useLoopbackStack({ llm: false, env: { JOB_RETENTION_DAYS: '0', SIMULATION_DELAY_MS: '600000' } });
  let db: DataSource;
  const from = Date.now() - 61 * DAY;

  beforeAll(async () => {
    db = stack.relay.app.get(DataSource);
    await fillHistory((sql) => db.query(sql), {
      postgres: false,
      jobs: HISTORY,
      fromMs: from,
      spanMs: 60 * DAY,
      webhookUrl: stack.hook,
    });
  }, 60_000);

  it('pages with a cursor through every match once, newest first, and refuses a forged cursor', async () => {
    const failed = await allPages(stack.relay, { status: 'delivery_failed', limit: 100 });
    expect(failed).toHaveLength(HISTORY / 50);
    expect(new Set(failed.map((job) => job.job_id)).size).toBe(failed.length);
    const keys = failed.map((job) => [Date.parse(job.created_at), job.job_id] as const);
    for (let i = 1; i < keys.length; i += 1)
      expect(keys[i][0] < keys[i - 1][0] || (keys[i][0] === keys[i - 1][0] && keys[i][1] < keys[i - 1][1])).toBe(true);

    const first = (await stack.relay.http.get('/v1/reviews').query({ limit: 5, include_total: 'true' }).expect(200))
      .body;
    expect(first).toMatchObject({ total: HISTORY, limit: 5, next_offset: 5 });
    expect(decodeCursor(first.next_cursor).id).toBe(first.items[4].job_id);
    const second = (
      await stack.relay.http.get('/v1/reviews').query({ limit: 5, cursor: first.next_cursor }).expect(200)
    ).body;
    expect(second.items[0].job_id).toBe(
      (await stack.relay.http.get('/v1/reviews').query({ limit: 1, offset: 5 })).body.items[0].job_id,
    );
    expect(second.next_offset).toBeNull();

    const forged = (
      await stack.relay.http
        .get('/v1/reviews')
        .query({ cursor: Buffer.from('1:job_x').toString('base64url') })
        .expect(400)
    ).body;
    expect(forged).toMatchObject({ code: 'invalid_cursor' });
    expect(
      (await stack.relay.http.get('/v1/reviews').query({ cursor: first.next_cursor, offset: 5 }).expect(400)).body.code,
    ).toBe('cursor_with_offset');
    expect((await stack.relay.http.get('/v1/reviews').query({ offset: 10_001 }).expect(400)).body.message).toMatch(
      /offset/,
    );
    for (const date of ['yesterday', '2024-W05', '20240101', '2024-01-01T10:00:00', '-2024-01-01T00:00:00Z']) {
      expect(
        (await stack.relay.http.get('/v1/reviews').query({ created_after: date }).expect(400)).body.message,
      ).toMatch(/created_after/);
    }
    expect(
      (await stack.relay.http.get('/v1/reviews').query({ created_before: '2026-13-45T00:00:00Z' }).expect(400)).body
        .message,
    ).toMatch(/created_before/);
  });

  it('filters by submission and by creation time, alone and together with a status', async () => {
    const oneSubmission = await allPages(stack.relay, { submission_id: 'subm-7', limit: 2 });
    expect(oneSubmission.map((job) => job.submission_id)).toEqual(Array(oneSubmission.length).fill('subm-7'));
    expect(oneSubmission.length).toBe(1);
    const after = new Date(from + 30 * DAY).toISOString();
    const before = new Date(from + 31 * DAY).toISOString();
    const day = await allPages(stack.relay, {
      created_after: after,
      created_before: before,
      status: 'delivered',
      limit: 100,
    });
    expect(day.length).toBeGreaterThan(200);
    expect(day.every((job) => job.created_at >= after && job.created_at < before && job.status === 'delivered')).toBe(
      true,
    );
    const counted = (
      await stack.relay.http
        .get('/v1/reviews')
        .query({ created_after: after, created_before: before, status: 'delivered', include_total: 'true', limit: 1 })
    ).body.total;
    expect(counted).toBe(day.length);
  });

  it('reads every page through an index in list order: no table scan, no sort', async () => {
    const timeline = stack.relay.app.get(JobQueriesRepository);
    const at = { createdAt: from + 30 * DAY, id: 'job_f' + 'f'.repeat(31) };
    const filters: JobFilter[] = [
      { limit: 20, offset: 0 },
      { limit: 20, offset: 0, after: at },
      { status: 'delivery_failed', limit: 20, offset: 0, after: at },
      { submissionId: 'subm-7', status: 'delivered', limit: 20, offset: 0 },
      { createdFrom: from, createdBefore: from + DAY, limit: 20, offset: 0 },
      { status: 'delivered', createdFrom: from, limit: 20, offset: 0, after: at },
    ];
    for (const filter of filters) {
      const [sql, parameters] = timeline.pageQuery(filter).getQueryAndParameters();
      const plan = (await db.query(`EXPLAIN QUERY PLAN ${sql}`, parameters))
        .map((row: { detail: string }) => row.detail)
        .join(' / ');
      expect(plan).toMatch(/USING (COVERING )?INDEX idx_jobs_(created|status_created|submission)/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
      expect(plan.split(' / ').filter((step: string) => step.startsWith('SCAN') && !step.includes('USING'))).toEqual(
        [],
      );
    }
  });

  it('answers pages and metrics without blocking the event loop, with counts kept by the database', async () => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const cursor = (await stack.relay.http.get('/v1/reviews').query({ limit: 100, offset: 10_000 })).body.next_cursor;
    const started = process.hrtime.bigint();
    for (let i = 0; i < 5; i += 1) {
      await stack.relay.http.get('/v1/reviews').expect(200);
      await stack.relay.http.get('/v1/reviews').query({ cursor, limit: 100 }).expect(200);
      await stack.relay.http.get('/v1/reviews').query({ status: 'delivery_failed' }).expect(200);
      await stack.relay.http.get('/metrics').expect(200);
    }
    const meanMs = Number(process.hrtime.bigint() - started) / 1e6 / 20;
    delay.disable();
    reportFigure(
      `history of ${HISTORY}: mean request ${meanMs.toFixed(1)} ms, event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms`,
    );
    // Generous for a shared machine; the plans above are the exact guard. A full scan of this history takes longer.
    expect(delay.max / 1e6).toBeLessThan(250);

    const text = (await stack.relay.http.get('/metrics').expect(200)).text;
    expect(metric(text, 'relay_jobs', 'status="delivered"')).toBe(HISTORY - HISTORY / 50);
    expect(metric(text, 'relay_jobs', 'status="delivery_failed"')).toBe(HISTORY / 50);
    expect(text).toMatch(/^nodejs_eventloop_lag_max_seconds \S+$/m);
    await countsMatchTable(db);
  });

  it('keeps the counts exact through intake, delivery and redelivery', async () => {
    const id = await stack.client.submit();
    await stack.relay.http
      .post(`/simulate-llm/${id}`)
      .send({ ok: true, result: { score: 1 } })
      .expect(200);
    await stack.client.waitForStatus(id, 'delivered');
    await stack.relay.http.post(`/v1/reviews/${id}/redeliver`).expect(202);
    await stack.client.waitForStatus(id, 'delivered');
    await stack.relay.scheduler.settled();
    await countsMatchTable(db);
    expect(metric((await stack.relay.http.get('/metrics')).text, 'relay_jobs', 'status="delivered"')).toBe(
      HISTORY - HISTORY / 50 + 1,
    );
  });
});

describe('retention (JOB_RETENTION_DAYS)', () => {
  const stack = useLoopbackStack({
    llm: false,
    env: { JOB_RETENTION_DAYS: '30', RETENTION_SWEEP_INTERVAL_SECONDS: '3600' },
  });
  let db: DataSource;

  beforeAll(() => {
    db = stack.relay.app.get(DataSource);
  });

  it('deletes finished jobs past the retention with their attempts, in batches, and nothing else', async () => {
    const hook = stack.hook;
    // 1,200 finished 60 to 40 days ago, 300 finished 10 days ago.
    await fillHistory((sql) => db.query(sql), {
      postgres: false,
      jobs: 1200,
      fromMs: Date.now() - 60 * DAY,
      spanMs: 20 * DAY,
      webhookUrl: hook,
      prefix: 'a',
    });
    await fillHistory((sql) => db.query(sql), {
      postgres: false,
      jobs: 300,
      fromMs: Date.now() - 10 * DAY,
      spanMs: DAY,
      webhookUrl: hook,
      prefix: 'b',
    });
    // Old but unfinished: queued for a retry in the far future; and an old finished job redelivered today.
    const old = Date.now() - 90 * DAY;
    await db.query(
      `UPDATE jobs SET status = 'queued', ok = NULL, next_attempt_at = ${Date.now() + DAY} WHERE id = (SELECT MIN(id) FROM jobs WHERE id LIKE 'job_a%')`,
    );
    const unfinished = (await db.query("SELECT id FROM jobs WHERE status = 'queued'"))[0].id;
    const redelivered = (
      await db.query("SELECT id FROM jobs WHERE id LIKE 'job_a%' AND status = 'delivered' ORDER BY id DESC LIMIT 1")
    )[0].id;
    await db.query(`UPDATE jobs SET created_at = ${old} WHERE id = '${unfinished}'`);
    await stack.relay.http.post(`/v1/reviews/${redelivered}/redeliver`).expect(202);
    await stack.client.waitForStatus(redelivered, 'delivered');
    await stack.relay.scheduler.settled();
    const pagesBefore = Number((await db.query('PRAGMA page_count'))[0].page_count);

    const deleted = await stack.relay.app.get(RetentionSweeper).sweep();

    expect(deleted).toBe(1200 - 2);
    const left = await db.query("SELECT id FROM jobs WHERE id LIKE 'job_a%' ORDER BY id");
    expect(left.map((row: { id: string }) => row.id).sort()).toEqual([unfinished, redelivered].sort());
    expect(Number((await db.query("SELECT COUNT(*) AS n FROM jobs WHERE id LIKE 'job_b%'"))[0].n)).toBe(300);
    const orphans = await db.query(
      'SELECT COUNT(*) AS n FROM delivery_attempts WHERE job_id NOT IN (SELECT id FROM jobs)',
    );
    expect(Number(orphans[0].n)).toBe(0);
    expect(
      Number((await db.query("SELECT COUNT(*) AS n FROM delivery_attempts WHERE job_id LIKE 'job_b%'"))[0].n),
    ).toBe(600);
    await countsMatchTable(db);
    // Freed pages went back to the file system (the file was created with incremental vacuum).
    expect(Number((await db.query('PRAGMA page_count'))[0].page_count)).toBeLessThan(pagesBefore);
    expect((await stack.relay.http.get('/metrics')).text).toMatch(
      new RegExp(`^relay_jobs_deleted_total ${1200 - 2}$`, 'm'),
    );
    expect(await stack.relay.app.get(RetentionSweeper).sweep()).toBe(0);
  });
});

(postgresReachable('the PostgreSQL history tests') ? describe : describe.skip)('a history on PostgreSQL', () => {
  const stack = useLoopbackStack({ llm: false, relay: false });
  const relays: RunningRelay[] = [];
  let database: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { DATABASE_URL: database.url, JOB_RETENTION_DAYS: '30', RETENTION_SWEEP_INTERVAL_SECONDS: '3600' };
    relays.push(await stack.start(env), await stack.startAnother(env));
  }, 60_000);
  // After the stack's own afterAll has closed the relays.
  afterAll(() => database?.drop());

  it('keeps counts by trigger, pages with a cursor, and two replicas sweep without double work', async () => {
    const db = relays[0].app.get(DataSource);
    await fillHistory((sql) => db.query(sql), {
      postgres: true,
      jobs: 3000,
      fromMs: Date.now() - 60 * DAY,
      spanMs: 20 * DAY,
      webhookUrl: stack.hook,
      prefix: 'a',
    });
    await fillHistory((sql) => db.query(sql), {
      postgres: true,
      jobs: 500,
      fromMs: Date.now() - 5 * DAY,
      spanMs: DAY,
      webhookUrl: stack.hook,
      prefix: 'b',
    });
    await countsMatchTable(db);
    const failed = await allPages(relays[1], { status: 'delivery_failed', limit: 7 });
    expect(failed).toHaveLength(3000 / 50 + 500 / 50);
    expect(new Set(failed.map((job) => job.job_id)).size).toBe(failed.length);

    const [first, second] = await Promise.all(relays.map((relay) => relay.app.get(RetentionSweeper).sweep()));
    expect(first + second).toBe(3000);
    expect(Number((await db.query('SELECT COUNT(*) AS n FROM jobs'))[0].n)).toBe(500);
    expect(Number((await db.query('SELECT COUNT(*) AS n FROM delivery_attempts'))[0].n)).toBe(1000);
    await countsMatchTable(db);
    const text = (await relays[0].http.get('/metrics').expect(200)).text;
    expect(metric(text, 'relay_jobs', 'status="delivered"')).toBe(490);
  });
});
