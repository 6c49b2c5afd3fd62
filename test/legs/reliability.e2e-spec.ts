import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { JobsService } from '../../src/jobs/jobs.service';
import { closeAfterEach } from '../support/cleanup';
import { callingBackLlm, eventually } from '../support/fake-server';
import { startLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';

describe('graceful stop', () => {
  const later = closeAfterEach();

  it('turns readiness 503, releases the lease of an unfinished attempt, and a restart resumes at once', async () => {
    const dir = tempDir('relay-drain-');
    later(() => fs.rmSync(dir, { recursive: true, force: true }));
    // The built-in simulated LLM; a receiver that hangs, so that the delivery is in flight when the relay stops.
    const stack = await startLoopbackStack({ llm: false, relay: false, web: () => ({ hang: true }) });
    later(() => stack.close());
    const env = { SHUTDOWN_GRACE_SECONDS: '0.5', OUTBOUND_TIMEOUT_SECONDS: '20', LEASE_MARGIN_SECONDS: '30' };
    const first = await stack.start(env, dir);
    const jobId = await stack.client.submit();
    await eventually(() => stack.web.for(jobId)[0], 'the delivery in flight');

    const closing = first.close();
    const ready = await eventually(async () => {
      const answer = await fetch(`${first.url}/health/ready`).catch(() => null);
      return answer?.status === 503 && answer;
    }, 'readiness 503 while draining');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      code: 'not_ready',
      error: { intake: { status: 'down', message: 'draining' } },
    });
    await closing;

    const db = new Database(`${dir}/relay.db`, { readonly: true });
    expect(db.prepare('SELECT status, lease_token FROM jobs WHERE id = ?').get(jobId)).toEqual({
      status: 'delivering',
      lease_token: null,
    });
    // The attempt was cut off at the end of the grace period (not left to its 20 s deadline) and recorded, without
    // taking the job back, before the database closed.
    const cutOff = db
      .prepare("SELECT attempt_no, outcome, error FROM delivery_attempts WHERE job_id = ? AND leg = 'delivery'")
      .all(jobId);
    expect(cutOff).toEqual([{ attempt_no: 1, outcome: 'stale', error: expect.not.stringMatching(/deadline/) }]);
    db.close();

    stack.web.handler = () => ({ status: 200 });
    const second = await stack.startAnother(env, dir);
    // The lease would hold for 50 s had it not been released: delivery well within that proves it was.
    await second.client.waitForStatus(jobId, 'delivered', 20_000);
  });
});

describe('lease fencing', () => {
  const later = closeAfterEach();

  it('an attempt whose lease expired cannot record its outcome over a newer claim', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    later(() => release());
    // An LLM that holds its answer to the forward until released.
    const stack = await startLoopbackStack({
      llm: async () => {
        await released;
        return { status: 202 };
      },
      env: { OUTBOUND_TIMEOUT_SECONDS: '20' },
    });
    later(() => stack.close());
    const relay = stack.relay;
    const jobId = await relay.client.submit({ webhook_url: 'https://web.example.com/hook' });
    await eventually(() => stack.llm.for(jobId)[0], 'the first forward in flight');

    // The first attempt stalls past its lease; another worker claims the job.
    const db = relay.app.get(DataSource);
    await db.query('UPDATE jobs SET lease_expires_at = 0 WHERE id = ?', [jobId]);
    const jobs = relay.app.get(JobsService);
    const [newer] = await jobs.claimDue('forward', 10, 60_000);
    expect(newer).toMatchObject({ job: { id: jobId }, attemptNo: 2 });

    release(); // the stale attempt now gets its 202
    await eventually(async () => (await relay.client.attempts(jobId)).length === 1, 'the stale attempt recorded');
    const [row] = await db.query('SELECT status, lease_token FROM jobs WHERE id = ?', [jobId]);
    expect(row).toEqual({ status: 'queued', lease_token: newer.lease });
    expect(await jobs.markProcessing(newer, 60_000)).toBe(true);
    expect((await relay.client.job(jobId)).status).toBe('processing');
  });
});

describe('a second process holding the SQLite write lock', () => {
  const later = closeAfterEach();

  it('delays work without losing or failing any of it', async () => {
    const dir = tempDir('relay-lock-');
    later(() => fs.rmSync(dir, { recursive: true, force: true }));
    const stack = await startLoopbackStack({ llm: callingBackLlm(1), relay: false });
    later(() => stack.close());
    const relay = await stack.startProcess({ DATABASE_URL: `sqlite:///${dir}/relay.db` });
    const client = stack.clientFor(relay);
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D=require('better-sqlite3');const d=new D(${JSON.stringify(`${dir}/relay.db`)});d.exec('BEGIN IMMEDIATE');console.log('locked');setTimeout(()=>{d.exec('COMMIT');process.exit(0)},2500)`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    const answers = await Promise.all([1, 2, 3].map((i) => client.submitAnswer({ submission_id: `locked-${i}` })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    await eventually(
      () => answers.every((a) => stack.web.for(a.body.job_id).length === 1),
      'every job delivered',
      20_000,
    );
  });
});
