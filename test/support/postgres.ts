import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const PG_ADMIN_URL = process.env.RELAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The shared PostgreSQL server the suites create their own databases on (the same as PG_ADMIN_URL). */
export const TEST_POSTGRES_URL = PG_ADMIN_URL;

/**
 * Reachable now? Checked synchronously, since Jest decides what to skip before any test runs. Unreachable is a skip
 * with a note on stderr, or a failure when RELAY_REQUIRE_POSTGRES=1 (as in CI).
 */
export function postgresReachable(what = 'the PostgreSQL tests'): boolean {
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const {Client}=require('pg');const c=new Client({connectionString:process.argv[1],connectionTimeoutMillis:2000});c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))`,
      PG_ADMIN_URL,
    ],
    { cwd: __dirname, timeout: 10_000 },
  );
  if (probe.status === 0) return true;
  if (process.env.RELAY_REQUIRE_POSTGRES === '1')
    throw new Error(`PostgreSQL is required (RELAY_REQUIRE_POSTGRES=1) but ${PG_ADMIN_URL} is unreachable`);
  process.stderr.write(`skipping ${what}: ${PG_ADMIN_URL} is unreachable (CI sets RELAY_REQUIRE_POSTGRES=1)\n`);
  return false;
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of its own on the test server; `drop()` removes it even with connections still open. */
export async function createTestDatabase(prefix = 'relay_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
