import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATION_LOCK_KEY } from '../../src/database/migration-lock';
import { eventually } from '../support/fake-server';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { FAST, startRelay, tempDir } from '../support/relay';
import { runUntilExit } from '../support/relay-process';

const MIGRATE = path.resolve(__dirname, '../../dist/migrate.js');

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `npm run migration:run` as a process; resolves when it exits. */
function migrate(env: NodeJS.ProcessEnv, onOutput?: (output: string) => void) {
  const child = spawn(process.execPath, [MIGRATE], {
    env: { ...process.env, ...FAST, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const take = (chunk: Buffer) => {
    output += chunk.toString();
    onOutput?.(output);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, output })),
  );
  return { child, exited, output: () => output };
}

describe('starting and stopping, where it used to go wrong', () => {
  it('stops at once with a message when the SQLite folder cannot be made', async () => {
    const started = Date.now();
    const { code, output } = await runUntilExit({ DATABASE_URL: 'sqlite:////proc/no-such-folder/relay.db' });
    expect(code).toBe(1);
    expect(output).toMatch(/cannot create the folder \/proc\/no-such-folder for the SQLite database/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('says what it waits for when PostgreSQL does not answer, and gives up after DATABASE_START_TIMEOUT_SECONDS', async () => {
    const port = await closedPort();
    const started = Date.now();
    const { code, output } = await runUntilExit(
      {
        DATABASE_URL: `postgres://relay@127.0.0.1:${port}/relay`,
        DATABASE_START_TIMEOUT_SECONDS: '2',
        LOG_LEVEL: 'info',
      },
      30_000,
    );
    expect(code).toBe(1);
    expect(output).toMatch(
      new RegExp(`waiting for the database \\(PostgreSQL database relay on 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    expect(output).toMatch(/the database did not answer within 2 s .*DATABASE_START_TIMEOUT_SECONDS/);
    // Two seconds of waiting plus the process's own start, not TypeORM's silent ~30 s of retries.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('sends TypeORM output through the logger: a failing statement prints nothing to the console', async () => {
    const relay = await startRelay();
    const printed: unknown[][] = [];
    const spies = (['log', 'error', 'warn', 'info'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args)),
    );
    try {
      await relay.app.get(DataSource).destroy();
      await relay.http.get('/metrics').expect(200);
    } finally {
      spies.forEach((spy) => spy.mockRestore());
      await relay.close();
    }
    expect(printed.map((args) => args.map(String).join(' '))).toEqual([]);
  });

  it('npm run migration:run refuses a SQLite file a relay is using', async () => {
    const dir = tempDir();
    const relay = await startRelay({}, dir);
    try {
      const { code, output } = await migrate({ DATABASE_URL: `sqlite:///${dir}/relay.db` }).exited;
      expect(code).toBe(1);
      expect(output).toMatch(/another relay is already using the database/);
    } finally {
      await relay.close();
    }
    const { code } = await migrate({ DATABASE_URL: `sqlite:///${dir}/relay.db` }).exited;
    expect(code).toBe(0);
  });

  (postgresReachable('migration:run under the lock') ? it : it.skip)(
    'npm run migration:run waits for the migration lock on PostgreSQL, as a starting relay does',
    async () => {
      const database = await createTestDatabase();
      const holder = new Client({ connectionString: database.url });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        const run = migrate({ DATABASE_URL: database.url, LOG_LEVEL: 'info' });
        await eventually(
          () => /another relay is migrating the database: waiting for it/.test(run.output()),
          'the wait',
        );
        expect(run.child.exitCode).toBeNull();
        await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        const { code, output } = await run.exited;
        expect([code, output]).toEqual([0, expect.stringMatching(/applied InitialSchema/)]);
        const applied = await holder.query('SELECT COUNT(*)::int AS n FROM migrations');
        expect(applied.rows[0].n).toBeGreaterThan(0);
      } finally {
        await holder.end();
        await database.drop();
      }
    },
  );
});
