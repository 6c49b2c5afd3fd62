import { setTimeout as sleep } from 'node:timers/promises';
import { memoryJobs, type MemoryJobs } from '../../test/support/memory-database';
import { failureOutcome, INVALID_RESULT_MESSAGE, outcomeOf } from './job-outcome';

const LEASE_MS = 60_000;
const RESULT = outcomeOf(true, { score: 0.9 }, null);
const OTHER_RESULT = outcomeOf(true, { score: 0.1 }, null);

describe('JobsService on SQLite', () => {
  let db: MemoryJobs;

  beforeEach(async () => {
    db = await memoryJobs();
  });
  afterEach(() => db.close());

  async function claimOne(leg: 'forward' | 'delivery' | 'cancel', leaseMs = LEASE_MS) {
    const claims = await db.jobs.claimDue(leg, 10, leaseMs);
    expect(claims).toHaveLength(1);
    return claims[0];
  }

  /** A claim whose lease has run out by the database's clock. */
  async function expiredClaim(leg: 'forward' | 'delivery' | 'cancel') {
    const claim = await claimOne(leg, 1);
    await sleep(5);
    return claim;
  }

  async function deliveringJob(): Promise<string> {
    const id = await db.submit();
    expect(await db.jobs.recordOutcome(id, RESULT)).toBe(true);
    return id;
  }

  describe('create', () => {
    it('stores a queued job, due now, with a change number above every earlier one', async () => {
      const first = await db.submit();
      const second = await db.submit();
      const [a, b] = [await db.row(first), await db.row(second)];
      expect(a).toMatchObject({ status: 'queued', leaseToken: null, forwardAttempts: 0 });
      expect(a.nextAttemptAt).toBeLessThanOrEqual(Date.now() + 1000);
      expect(b.changeSeq).toBeGreaterThan(a.changeSeq);
      expect(first).toMatch(/^job_[0-9a-f]{32}$/);
    });
  });

  describe('the forward leg', () => {
    it('markProcessing: a live claim moves queued → processing with the callback deadline as its next attempt', async () => {
      const id = await db.submit();
      const claim = await claimOne('forward');
      expect(await db.jobs.markProcessing(claim, 30_000)).toBe(true);
      const job = await db.row(id);
      expect(job).toMatchObject({ status: 'processing', leaseToken: null, leaseExpiresAt: null });
      expect(job.callbackDeadlineAt).toBe(job.nextAttemptAt);
      expect(job.callbackDeadlineAt! - job.forwardedAt!).toBe(30_000);
    });

    it('markProcessing: fenced out once the lease ran out (stale), and once another claim holds the job', async () => {
      const id = await db.submit();
      const stale = await expiredClaim('forward');
      expect(await db.jobs.markProcessing(stale, 30_000)).toBe(false);
      const current = await claimOne('forward');
      expect(current.attemptNo).toBe(2);
      expect(await db.jobs.markProcessing(stale, 30_000)).toBe(false);
      expect((await db.row(id)).status).toBe('queued');
      expect(await db.jobs.markProcessing(current, 30_000)).toBe(true);
    });

    it('addCallbackToken appends hashes while the claim holds, and not after', async () => {
      const id = await db.submit();
      const claim = await claimOne('forward');
      expect(await db.jobs.addCallbackToken(claim, 'h1', 'gpu-a')).toBe(true);
      expect(await db.jobs.addCallbackToken(claim, 'h2', 'gpu-b')).toBe(true);
      expect((await db.row(id)).callbackTokenHashes).toBe('h1,h2');
      // The server of its latest forward.
      expect((await db.row(id)).llmServer).toBe('gpu-b');
      await db.jobs.releaseAll([claim]);
      expect(await db.jobs.addCallbackToken(claim, 'h3', 'gpu-a')).toBe(false);
      expect((await db.row(id)).callbackTokenHashes).toBe('h1,h2');
    });

    it('scheduleRetry keeps the status, frees the lease and sets the next attempt; stale claims change nothing', async () => {
      const id = await db.submit();
      const claim = await claimOne('forward');
      expect(await db.jobs.scheduleRetry(claim, 60_000)).toBe(true);
      const job = await db.row(id);
      expect(job).toMatchObject({ status: 'queued', leaseToken: null });
      expect(job.nextAttemptAt! - job.updatedAt).toBe(60_000);
      expect(await db.jobs.claimDue('forward', 10, LEASE_MS)).toEqual([]);
      expect(await db.jobs.scheduleRetry(claim, 0)).toBe(false);
    });

    it('failForward records the failure and makes the first delivery due; only while the claim holds', async () => {
      const id = await db.submit();
      const stale = await expiredClaim('forward');
      const failure = failureOutcome('forward_failed', 'no');
      expect(await db.jobs.failForward(stale, failure)).toBe(false);
      const claim = await claimOne('forward');
      expect(await db.jobs.failForward(claim, failure)).toBe(true);
      expect(await db.row(id)).toMatchObject({
        status: 'delivering',
        ok: false,
        errorCode: 'forward_failed',
        deliveryRounds: 1,
      });
    });
  });

  describe('outcomes', () => {
    it('recordOutcome: the first outcome wins, from queued or processing, and a forward in flight loses its lease', async () => {
      const id = await db.submit();
      const claim = await claimOne('forward');
      expect(await db.jobs.recordOutcome(id, RESULT)).toBe(true);
      expect(await db.jobs.recordOutcome(id, OTHER_RESULT)).toBe(false);
      const job = await db.row(id);
      expect(job).toMatchObject({
        status: 'delivering',
        ok: true,
        result: { score: 0.9 },
        outcomeHash: RESULT.outcomeHash,
        leaseToken: null,
      });
      expect(await db.jobs.markProcessing(claim, 30_000)).toBe(false);
    });

    it('recordRejectedResult counts refusals while the job waits, and answers null once the outcome is known', async () => {
      const id = await db.submit();
      expect(await db.jobs.recordRejectedResult(id, 'score: missing')).toBe(1);
      expect(await db.jobs.recordRejectedResult(id, 'score: not a number')).toBe(2);
      expect((await db.row(id)).resultRejection).toBe('score: not a number');
      await db.jobs.recordOutcome(id, RESULT);
      expect(await db.jobs.recordRejectedResult(id, 'late')).toBeNull();
      expect(await db.jobs.recordRejectedResult('job_unknown', 'x')).toBeNull();
    });

    it('expireCallbacks ends overdue processing jobs: invalid_result with the last reason when refused, else the timeout', async () => {
      const silent = await db.submit();
      const refused = await db.submit();
      const waiting = await db.submit();
      const claims = await db.jobs.claimDue('forward', 10, LEASE_MS);
      for (const claim of claims) {
        expect(await db.jobs.markProcessing(claim, claim.job.id === waiting ? 600_000 : 0)).toBe(true);
      }
      await db.jobs.recordRejectedResult(refused, 'score: missing');
      await sleep(2);
      expect(await db.jobs.expireCallbacks(failureOutcome('llm_timeout', 'too slow'))).toBe(2);
      expect(await db.row(silent)).toMatchObject({
        status: 'delivering',
        errorCode: 'llm_timeout',
        errorMessage: 'too slow',
      });
      expect(await db.row(refused)).toMatchObject({
        status: 'delivering',
        errorCode: 'invalid_result',
        errorMessage: `${INVALID_RESULT_MESSAGE}score: missing`,
      });
      expect((await db.row(waiting)).status).toBe('processing');
      expect(await db.jobs.expireCallbacks(failureOutcome('llm_timeout', 'too slow'))).toBe(0);
    });
  });

  describe('the delivery leg', () => {
    it('markDelivered and markDeliveryFailed are fenced by the delivery claim', async () => {
      const delivered = await deliveringJob();
      const stale = await expiredClaim('delivery');
      expect(await db.jobs.markDelivered(stale)).toBe(false);
      const claim = await claimOne('delivery');
      expect(await db.jobs.markDeliveryFailed(stale)).toBe(false);
      expect(await db.jobs.markDelivered(claim)).toBe(true);
      expect(await db.row(delivered)).toMatchObject({
        status: 'delivered',
        leaseToken: null,
        nextAttemptAt: null,
        deliveryAttempts: 2,
      });

      const failed = await deliveringJob();
      const second = await claimOne('delivery');
      expect(second.job.id).toBe(failed);
      expect(await db.jobs.markDeliveryFailed(second)).toBe(true);
      expect(await db.jobs.markDelivered(second)).toBe(false);
      expect((await db.row(failed)).status).toBe('delivery_failed');
    });

    it('requeueDelivery gives a finished job a new round counted on from its attempts; never an unfinished one', async () => {
      const id = await deliveringJob();
      expect(await db.jobs.requeueDelivery(id)).toBe(false);
      await db.jobs.markDelivered(await claimOne('delivery'));
      expect(await db.jobs.requeueDelivery(id)).toBe(true);
      expect(await db.row(id)).toMatchObject({ status: 'delivering', deliveryRounds: 2, deliveryRoundBase: 1 });
      const claim = await claimOne('delivery');
      expect(claim).toMatchObject({ attemptNo: 2, round: 2, attemptInRound: 1 });
    });
  });

  describe('cancel', () => {
    it('cancels from every status before delivery, with a notice due only when the LLM may hold the job', async () => {
      const queued = await db.submit();
      expect(await db.jobs.cancel(queued, () => false)).toEqual({ cancelled: true, from: 'queued' });
      expect(await db.row(queued)).toMatchObject({ status: 'cancelled', nextAttemptAt: null });

      const processing = await db.submit();
      await db.jobs.markProcessing(await claimOne('forward'), 60_000);
      expect(await db.jobs.cancel(processing, (job) => job.status === 'processing')).toEqual({
        cancelled: true,
        from: 'processing',
      });
      const notice = await claimOne('cancel');
      expect(notice.job.id).toBe(processing);
      expect(await db.jobs.cancelNoticeDone(notice)).toBe(true);
      expect(await db.jobs.claimDue('cancel', 10, LEASE_MS)).toEqual([]);

      const delivering = await deliveringJob();
      expect((await db.jobs.cancel(delivering, () => false)).from).toBe('delivering');
    });

    it('refuses finished jobs, repeats as already cancelled, and 404s an unknown id', async () => {
      const id = await deliveringJob();
      await db.jobs.markDelivered(await claimOne('delivery'));
      expect(await db.jobs.cancel(id, () => false)).toEqual({ cancelled: false, from: 'delivered' });
      const other = await db.submit();
      await db.jobs.cancel(other, () => false);
      expect(await db.jobs.cancel(other, () => false)).toEqual({ cancelled: false, from: 'cancelled' });
      await expect(db.jobs.cancel('job_unknown', () => false)).rejects.toMatchObject({ code: 'job_not_found' });
    });

    it('a forward claimed meanwhile makes cancel decide again (the forward count it read no longer holds)', async () => {
      // A first claim learns (and caches) that no client has a cap of its own, as a running relay's ticks do.
      expect(await db.jobs.claimDue('forward', 1, LEASE_MS)).toEqual([]);
      const id = await db.submit();
      const decisions: number[] = [];
      let claimedDuringCancel = false;
      const result = await db.jobs.cancel(id, (job) => {
        decisions.push(job.forwardAttempts);
        if (!claimedDuringCancel) {
          claimedDuringCancel = true;
          // Synchronously queue a claim: it lands before the cancel's conditional UPDATE.
          void db.jobs.claimDue('forward', 1, LEASE_MS);
        }
        return job.forwardAttempts > 0;
      });
      expect(result).toEqual({ cancelled: true, from: 'queued' });
      expect(decisions).toEqual([0, 1]);
      expect((await db.row(id)).nextAttemptAt).not.toBeNull();
    });
  });

  describe('the change sequence', () => {
    it('grows with every status change, in commit order, and stays put for writes that keep the status', async () => {
      const id = await db.submit();
      const seen = [(await db.row(id)).changeSeq];
      const claim = await claimOne('forward');
      expect((await db.row(id)).changeSeq).toBe(seen[0]);
      await db.jobs.addCallbackToken(claim, 'h', 'default');
      expect((await db.row(id)).changeSeq).toBe(seen[0]);
      await db.jobs.markProcessing(claim, 60_000);
      seen.push((await db.row(id)).changeSeq);
      await db.jobs.recordOutcome(id, RESULT);
      seen.push((await db.row(id)).changeSeq);
      await db.jobs.markDelivered(await claimOne('delivery'));
      seen.push((await db.row(id)).changeSeq);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
      expect(new Set(seen).size).toBe(4);
    });

    it('numbers past the database clock, so a deleted newest row is never numbered again', async () => {
      const before = Date.now();
      const id = await db.submit();
      expect((await db.row(id)).changeSeq).toBeGreaterThanOrEqual(before - 1000);
      await db.dataSource.query('DELETE FROM jobs');
      const next = await db.submit();
      expect((await db.row(next)).changeSeq).toBeGreaterThanOrEqual(before - 1000);
    });

    it('lists changes after a cursor in (change_seq, id) order', async () => {
      const ids = [await db.submit(), await db.submit(), await db.submit()];
      const first = await db.queries.listChanges({ seq: 0, id: '' }, 2);
      expect(first.map((job) => job.id)).toEqual(ids.slice(0, 2));
      const rest = await db.queries.listChanges({ seq: first[1].changeSeq, id: first[1].id }, 10);
      expect(rest.map((job) => job.id)).toEqual([ids[2]]);
    });
  });

  it('releaseAll hands leases back at once, and only the leases it names', async () => {
    const id = await db.submit();
    const claim = await claimOne('forward');
    await db.jobs.releaseAll([{ ...claim, lease: 'someone-else' }]);
    expect((await db.row(id)).leaseToken).toBe(claim.lease);
    await db.jobs.releaseAll([claim]);
    expect((await db.row(id)).leaseToken).toBeNull();
    expect((await claimOne('forward')).attemptNo).toBe(2);
  });
});
