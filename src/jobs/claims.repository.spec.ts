import { randomUUID } from 'node:crypto';
import { memoryJobs, type MemoryJobs } from '../../test/support/memory-database';
import { outcomeOf } from './job-outcome';

const LEASE_MS = 60_000;

describe('ClaimsRepository on SQLite', () => {
  let db: MemoryJobs;

  beforeEach(async () => {
    db = await memoryJobs();
  });
  afterEach(() => db.close());

  const claim = (leg: 'forward' | 'delivery' | 'cancel', limit: number, maxInFlight = 0) =>
    db.claims.claim(leg, { lease: randomUUID(), limit, leaseMs: LEASE_MS, maxInFlight });

  it('claims due jobs oldest first, up to the limit, under one lease, counting the attempt', async () => {
    const ids = [];
    for (let i = 0; i < 5; i += 1) ids.push(await db.submit());
    await db.dataSource.query('UPDATE jobs SET next_attempt_at = next_attempt_at - 1000 * (10 - rowid)');
    const lease = randomUUID();
    const claimed = await db.claims.claim('forward', { lease, limit: 3, leaseMs: LEASE_MS, maxInFlight: 0 });
    expect(claimed.map((job) => job.id).sort()).toEqual(ids.slice(0, 3).sort());
    for (const job of claimed) expect(job).toMatchObject({ leaseToken: lease, forwardAttempts: 1 });
    expect(claimed[0].leaseExpiresAt! - claimed[0].updatedAt).toBe(LEASE_MS);
  });

  it('skips leased jobs, jobs not yet due, and jobs of other legs', async () => {
    const leased = await db.submit();
    expect((await claim('forward', 10)).map((job) => job.id)).toEqual([leased]);
    const later = await db.submit();
    await db.dataSource.query('UPDATE jobs SET next_attempt_at = next_attempt_at + 3600000 WHERE id = ?', [later]);
    const delivering = await db.submit();
    await db.jobs.recordOutcome(delivering, outcomeOf(true, null, null));
    expect(await claim('forward', 10)).toEqual([]);
    expect((await claim('delivery', 10)).map((job) => job.id)).toEqual([delivering]);
    expect(await claim('cancel', 10)).toEqual([]);
  });

  it('takes a job whose lease ran out again', async () => {
    const id = await db.submit();
    await db.claims.claim('forward', { lease: randomUUID(), limit: 1, leaseMs: 1, maxInFlight: 0 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await claim('forward', 1);
    expect(again.map((job) => [job.id, job.forwardAttempts])).toEqual([[id, 2]]);
  });

  it('keeps the jobs at the LLM within maxInFlight: processing jobs and forwards in progress both count', async () => {
    for (let i = 0; i < 6; i += 1) await db.submit();
    const first = await db.jobs.claimDue('forward', 10, LEASE_MS, 3);
    expect(first).toHaveLength(3);
    expect(await claim('forward', 10, 3)).toEqual([]);
    await db.jobs.markProcessing(first[0], 60_000);
    expect(await claim('forward', 10, 3)).toEqual([]);
    await db.jobs.recordOutcome(first[1].job.id, outcomeOf(true, null, null));
    expect(await claim('forward', 10, 3)).toHaveLength(1);
    expect(await claim('forward', 10, 0)).toHaveLength(2);
  });

  it('counts the jobs at the LLM through idx_jobs_forwarding alone', async () => {
    const plan: { detail: string }[] = await db.dataSource.query(`EXPLAIN QUERY PLAN ${db.claims.clientTurnsSql}`);
    const details = plan.map((row) => row.detail).join('\n');
    expect(details).toMatch(/idx_jobs_forwarding/);
    expect(details).not.toMatch(/SCAN jobs/);
  });
});
