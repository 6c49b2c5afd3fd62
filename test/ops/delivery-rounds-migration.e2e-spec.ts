import * as fs from 'node:fs';
import { DataSource } from 'typeorm';
import { relayDataSourceOptions } from '../../src/jobs/relay-data-source';
import { parseDatabaseUrl } from '../../src/config/database-url';
import { InitialSchema1764150000000 } from '../../src/database/migrations/1764150000000-initial-schema';
import { useLoopbackStack } from '../support/loopback-stack';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { startRelay, tempDir } from '../support/relay';

/**
 * Rows as the relay wrote them before delivery rounds, when a redeliver restarted attempt numbers at 1:
 * - job_a failed three times, was redelivered and delivered (delivery_attempts had dropped to 1);
 * - job_b failed three times and was redelivered, not yet claimed (delivery_attempts 0);
 * - job_c is still processing.
 */
function legacyRows(webhookUrl: string): string[] {
  const job = (id: string, status: string, deliveryAttempts: number) =>
    `INSERT INTO jobs (id, submission_id, file_refs, webhook_url, request_hash, status, ok, result, delivery_attempts,
       next_attempt_at, created_at, updated_at, outcome_at)
     VALUES ('${id}', 'subm-${id}', '[]', '${webhookUrl}', 'h', '${status}', TRUE, '{"score":1}', ${deliveryAttempts},
       ${status === 'delivering' ? 0 : 'NULL'}, 1000, 1000, 1000)`;
  const attempt = (jobId: string, leg: string, no: number, outcome: string) =>
    `INSERT INTO delivery_attempts (job_id, leg, attempt_no, target, status_code, outcome, duration_ms, started_at)
     VALUES ('${jobId}', '${leg}', ${no}, 'http://x/', 500, '${outcome}', 1, 1000)`;
  return [
    job('job_a', 'delivered', 1),
    job('job_b', 'delivering', 0),
    job('job_c', 'processing', 0),
    attempt('job_a', 'forward', 1, 'success'),
    ...[1, 2, 3].map((no) => attempt('job_a', 'delivery', no, no === 3 ? 'failed' : 'retry')),
    attempt('job_a', 'delivery', 1, 'success'),
    ...[1, 2, 3].map((no) => attempt('job_b', 'delivery', no, no === 3 ? 'failed' : 'retry')),
  ];
}

/** A database at the initial schema holding legacy rows, as an older relay left it. */
async function legacyDatabase(databaseUrl: string, webhookUrl: string): Promise<void> {
  const options = relayDataSourceOptions(parseDatabaseUrl(databaseUrl));
  const db = new DataSource({ ...options, migrations: [InitialSchema1764150000000], migrationsRun: false });
  await db.initialize();
  await db.runMigrations();
  for (const statement of legacyRows(webhookUrl)) await db.query(statement);
  await db.destroy();
}

async function withPostgresDatabase(use: (url: string) => Promise<void>): Promise<void> {
  const database = await createTestDatabase('relay_rounds');
  try {
    await use(database.url);
  } finally {
    await database.drop();
  }
}

/** Migrates legacy rows by starting the relay on them, then checks what operators see and the next attempt. */
async function migrateAndCheck(databaseUrl: string, hook: string): Promise<void> {
  await legacyDatabase(databaseUrl, hook);
  const relay = await startRelay({ DATABASE_URL: databaseUrl });
  try {
    const deliveryRows = async (id: string) =>
      (await relay.http.get(`/v1/reviews/${id}/attempts`).expect(200)).body.items
        .filter((a: any) => a.leg === 'delivery')
        .map((a: any) => [a.attempt_no, a.round]);

    expect((await relay.http.get('/v1/reviews/job_a').expect(200)).body.delivery).toMatchObject({
      attempts: 4,
      rounds: 2,
    });
    expect(await deliveryRows('job_a')).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 2],
    ]);
    expect((await relay.http.get('/v1/reviews/job_a/attempts')).body.items[0]).toMatchObject({
      leg: 'forward',
      attempt_no: 1,
      round: null,
    });
    expect((await relay.http.get('/v1/reviews/job_c').expect(200)).body.delivery).toMatchObject({
      attempts: 0,
      rounds: 0,
    });

    // job_b's pending second round is claimed by the migrated relay: its first attempt is number 4, in round 2.
    const delivered = await relay.client.waitForStatus('job_b', 'delivered');
    expect(delivered.delivery).toMatchObject({ attempts: 4, rounds: 2 });
    expect(await deliveryRows('job_b')).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 2],
    ]);
  } finally {
    await relay.close();
  }
}

/** Reverting the migration puts attempt numbers and counters back per round, as the older relay expects. */
async function revertAndCheck(databaseUrl: string): Promise<void> {
  const db = new DataSource({ ...relayDataSourceOptions(parseDatabaseUrl(databaseUrl)), migrationsRun: false });
  await db.initialize();
  // Later migrations are undone first, down to and including this one.
  const applied = async () => (await db.query('SELECT name FROM migrations')).map((row: { name: string }) => row.name);
  while ((await applied()).includes('DeliveryRounds1795750000000')) await db.undoLastMigration();
  const jobs = await db.query("SELECT id, delivery_attempts FROM jobs WHERE id IN ('job_a', 'job_b') ORDER BY id");
  expect(jobs.map((j: any) => [j.id, Number(j.delivery_attempts)])).toEqual([
    ['job_a', 1],
    ['job_b', 1],
  ]);
  const rows = await db.query("SELECT attempt_no FROM delivery_attempts WHERE job_id = 'job_b' ORDER BY id");
  expect(rows.map((r: any) => Number(r.attempt_no))).toEqual([1, 2, 3, 1]);
  await db.destroy();
}

describe('the delivery-rounds migration on existing data', () => {
  // Only the receiver: each test starts the relay on its legacy database (and closes it before reverting).
  const stack = useLoopbackStack({ llm: false, relay: false });

  it('numbers legacy attempts on across rounds and backfills rounds, on SQLite', async () => {
    const dir = tempDir('relay-rounds-');
    const url = `sqlite:///${dir}/relay.db`;
    await migrateAndCheck(url, stack.hook);
    await revertAndCheck(url);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  (postgresReachable('the delivery-rounds migration on PostgreSQL') ? it : it.skip)(
    'does the same on PostgreSQL',
    async () => {
      await withPostgresDatabase(async (url) => {
        await migrateAndCheck(url, stack.hook);
        await revertAndCheck(url);
      });
    },
  );
});
