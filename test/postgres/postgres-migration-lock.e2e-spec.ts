import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { MIGRATION_LOCK_KEY } from '../../src/database/migration-lock';
import { MIGRATIONS } from '../../src/database/data-source-options';
import { eventually } from '../support/fake-server';
import { postgresReachable, TEST_POSTGRES_URL } from '../support/postgres';
import { RelayProcess } from '../support/relay-process';

async function readiness(relay: RelayProcess): Promise<number> {
  const response = await fetch(`${relay.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  return response.status;
}

(postgresReachable() ? describe : describe.skip)('migrations under a PostgreSQL advisory lock', () => {
  const databases: string[] = [];
  const relays: RelayProcess[] = [];

  async function admin<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }

  async function freshDatabase(): Promise<string> {
    const name = `relay_lock_${randomBytes(6).toString('hex')}`;
    await admin(TEST_POSTGRES_URL, (client) => client.query(`CREATE DATABASE ${name}`));
    databases.push(name);
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = `/${name}`;
    return url.toString();
  }

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.kill()));
  });

  afterAll(async () => {
    for (const name of databases) {
      await admin(TEST_POSTGRES_URL, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
  });

  it('brings up three replicas started at the same moment on an empty database, each migration applied once', async () => {
    const url = await freshDatabase();
    const started = await Promise.all(
      [1, 2, 3].map(() => RelayProcess.start({ DATABASE_URL: url }).then((relay) => (relays.push(relay), relay))),
    );
    for (const relay of started) expect(await readiness(relay)).toBe(200);
    // Up at the first try: @nestjs/typeorm retries a failed start every 3 s, which would hide a race lost.
    for (const relay of started)
      expect(relay.output).not.toMatch(/Unable to connect to the database|query failed|already exists|duplicate key/i);
    const applied = await admin(url, async (client) =>
      (await client.query('SELECT name FROM migrations ORDER BY id')).rows.map((row) => row.name),
    );
    expect(applied).toEqual(MIGRATIONS.map((migration) => migration.name));
    const tables = await admin(url, async (client) =>
      (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows.map(
        (row) => row.tablename,
      ),
    );
    expect(tables).toEqual(expect.arrayContaining(['jobs', 'delivery_attempts', 'migrations']));
    // Released after the run: no session still holds the key (in this database: pg_locks is the whole server's,
    // and tests running beside this one take advisory locks of their own in theirs).
    const holders = await admin(
      url,
      async (client) =>
        (
          await client.query(
            `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' ` +
              `AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          )
        ).rows[0].n,
    );
    expect(holders).toBe(0);
  }, 60_000);

  it('waits for whoever holds the migration lock before migrating, then starts', async () => {
    const url = await freshDatabase();
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const starting = RelayProcess.start({ DATABASE_URL: url }).then((relay) => (relays.push(relay), relay));
      // The relay's session waits on the key: it is in pg_locks, not granted, and nothing was migrated.
      await eventually(
        async () =>
          (
            await holder.query(
              `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted ` +
                `AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            )
          ).rows[0].n === 1,
        'the relay waiting on the migration lock',
      );
      expect((await holder.query(`SELECT to_regclass('public.jobs') AS t`)).rows[0].t).toBeNull();
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      expect(await readiness(await starting)).toBe(200);
      expect((await holder.query(`SELECT to_regclass('public.jobs') AS t`)).rows[0].t).toBe('jobs');
    } finally {
      await holder.end();
    }
  }, 60_000);
});
