import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { parseDatabaseUrl } from '../src/database/database-url';
import { DeliveryAttempt } from '../src/jobs/attempt.entity';
import { Job } from '../src/jobs/job.entity';
import { JobTimelineService } from '../src/jobs/job-timeline.service';
import { decodeFeedCursor, encodeFeedCursor, FEED_START } from '../src/reviews/feed-cursor';
import { encodeCursor } from '../src/reviews/list-cursor';
import { callingBackLlm, eventually, FakeServer, RecordedRequest } from './support/fake-server';
import { createTestDatabase, postgresReachable } from './support/postgres';
import { reviewBody, RunningRelay, startRelay } from './support/relay';
import { RelayProcess } from './support/relay-process';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fillHistory } = require('../scripts/bench/history-fill') as {
  fillHistory: (query: (sql: string) => Promise<unknown>, options: Record<string, unknown>) => Promise<void>;
};

const KEY = 'feed-reader-key';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RANK: Record<string, number> = { queued: 0, processing: 1, delivering: 2, delivered: 3, delivery_failed: 3 };

interface Sighting {
  job_id: string;
  status: string;
  updated_at: string;
}

describe('the catch-up feed on SQLite (GET /v1/reviews/changes)', () => {
  let llm: FakeServer;
  let web: FakeServer;
  let relay: RunningRelay;
  let db: DataSource;
  const feed = (query: Record<string, string | number> = {}) => relay.http.get('/v1/reviews/changes').set('x-api-key', KEY).query(query);
  const submit = async (i: number) =>
    (await relay.http.post('/v1/reviews').set('x-api-key', KEY).send(reviewBody(`${web.url}/hook`, { submission_id: `feed-${i}` })).expect(202)).body
      .job_id as string;
  const status = async (id: string) => (await relay.http.get(`/v1/reviews/${id}`).set('x-api-key', KEY).expect(200)).body;
  const changeSeq = async (id: string) => Number((await db.query('SELECT change_seq FROM jobs WHERE id = ?', [id]))[0].change_seq);

  beforeAll(async () => {
    llm = await FakeServer.start(callingBackLlm());
    web = await FakeServer.start(() => ({ status: 200 }));
    relay = await startRelay({ LLM_API_URL: llm.url, RELAY_API_KEYS: KEY });
    db = relay.app.get(DataSource);
  });
  afterAll(async () => {
    await relay.close();
    await llm.close();
    await web.close();
  });

  it('starts empty with a cursor for the beginning, and keeps a cursor while nothing changes', async () => {
    const empty = (await feed().expect(200)).body;
    expect(empty).toEqual({ items: [], next_cursor: encodeFeedCursor(FEED_START) });
    expect((await feed({ after: empty.next_cursor }).expect(200)).body).toEqual(empty);
  });

  it('gives each change after the cursor once, in commit order, with the job as it is now', async () => {
    const start = (await feed().expect(200)).body.next_cursor;
    const first = await submit(0);
    const queued = (await feed({ after: start }).expect(200)).body;
    expect(queued.items.map((job: any) => job.job_id)).toEqual([first]);
    expect(decodeFeedCursor(queued.next_cursor)).toEqual({ seq: await changeSeq(first), id: first });

    await eventually(async () => (await status(first)).status === 'delivered', 'the first job delivered');
    await relay.scheduler.settled();
    const done = (await feed({ after: queued.next_cursor }).expect(200)).body;
    expect(done.items).toEqual([await status(first)]);
    expect(done.items[0].delivery).toMatchObject({ attempts: 1, last_status_code: 200 });
    const idle = (await feed({ after: done.next_cursor }).expect(200)).body;
    expect(idle).toEqual({ items: [], next_cursor: done.next_cursor });

    // More jobs, read in small pages from the cursor: every job once, in its final state, ordered by its last change.
    const ids = [];
    for (let i = 1; i <= 12; i += 1) ids.push(await submit(i));
    await eventually(async () => {
      const page = (await relay.http.get('/v1/reviews').set('x-api-key', KEY).query({ status: 'delivered', include_total: 'true', limit: 1 })).body;
      return page.total === 13;
    }, 'every job delivered');
    await relay.scheduler.settled();
    const seen: any[] = [];
    let cursor = done.next_cursor;
    for (;;) {
      const page = (await feed({ after: cursor, limit: 5 }).expect(200)).body;
      seen.push(...page.items);
      if (page.items.length === 0) {
        expect(page.next_cursor).toBe(cursor);
        break;
      }
      expect(page.items.length).toBeLessThanOrEqual(5);
      cursor = page.next_cursor;
    }
    expect(seen.map((job) => job.job_id).sort()).toEqual([...ids].sort());
    expect(seen.every((job) => job.status === 'delivered' && job.delivery.last_status_code === 200)).toBe(true);
    for (const job of seen) expect(job).toEqual(await status(job.job_id));
    const positions = await Promise.all(seen.map(async (job) => [await changeSeq(job.job_id), job.job_id] as const));
    for (let i = 1; i < positions.length; i += 1) {
      const [a, b] = [positions[i - 1], positions[i]];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
      expect(seen[i].updated_at >= seen[i - 1].updated_at).toBe(true);
    }
    expect(decodeFeedCursor(cursor)).toEqual({ seq: positions.at(-1)![0], id: positions.at(-1)![1] });

    // From the beginning: every job, each once.
    const all = (await feed({ limit: 1000 }).expect(200)).body.items.map((job: any) => job.job_id);
    expect(all.sort()).toEqual([first, ...ids].sort());
  });

  it('numbers a change past one whose job retention deleted', async () => {
    const id = await submit(100);
    await eventually(async () => (await status(id)).status === 'delivered', 'delivered');
    await relay.scheduler.settled();
    const last = (await feed({ limit: 1000 }).expect(200)).body;
    expect(last.items.at(-1).job_id).toBe(id);
    const seq = await changeSeq(id);
    // As retention does once a job is finished and old (its attempts go with it).
    await db.query('DELETE FROM jobs WHERE id = ?', [id]);
    const next = await submit(101);
    const after = (await feed({ after: last.next_cursor }).expect(200)).body;
    expect(after.items.map((job: any) => job.job_id)).toEqual([next]);
    expect(await changeSeq(next)).toBeGreaterThan(seq);
    await eventually(async () => (await status(next)).status === 'delivered', 'delivered');
    await relay.scheduler.settled();
  });

  it('refuses a cursor it did not give out, a limit out of range, and a reader without a key', async () => {
    const listCursor = encodeCursor({ createdAt: Date.now(), id: `job_${'a'.repeat(32)}` });
    const forged = [
      'not a cursor!',
      '',
      listCursor,
      Buffer.from('c1:job_x').toString('base64url'),
      Buffer.from('c12:').toString('base64url'),
      Buffer.from(`c99999999999999999:job_${'a'.repeat(32)}`).toString('base64url'),
      'A'.repeat(201),
    ];
    for (const after of forged) {
      expect((await feed({ after }).expect(400)).body).toMatchObject({ statusCode: 400, code: 'invalid_cursor' });
    }
    for (const limit of ['0', '1001', '-1', '2.5', 'ten']) {
      expect((await feed({ limit }).expect(400)).body).toMatchObject({ code: 'validation_failed', details: [expect.stringMatching(/^limit /)] });
    }
    expect((await feed({ limit: 1000 }).expect(200)).body.items.length).toBeGreaterThan(0);
    expect((await feed({ limit: 1 }).expect(200)).body.items).toHaveLength(1);
    expect((await relay.http.get('/v1/reviews/changes').expect(401)).body).toMatchObject({ statusCode: 401 });
    await relay.http.get('/v1/reviews/changes').set('authorization', `Bearer ${KEY}`).expect(200);
  });

  it('walks idx_jobs_change in order: no table scan, no sort', async () => {
    const timeline = relay.app.get(JobTimelineService);
    for (const after of [FEED_START, { seq: 1_800_000_000_000, id: `job_${'f'.repeat(32)}` }]) {
      const [sql, parameters] = timeline.changesQuery(after, 100).getQueryAndParameters();
      const plan = (await db.query(`EXPLAIN QUERY PLAN ${sql}`, parameters)).map((row: { detail: string }) => row.detail).join(' / ');
      expect(plan).toMatch(/(SEARCH|SCAN) job USING INDEX idx_jobs_change/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
    }
  });
});
