import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const POSTGRES_ADMIN_URL = process.env.RELAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Reachable now? Checked synchronously, since Jest decides what to skip before any test runs. Unreachable is a skip
 * with a message, or a failure under RELAY_REQUIRE_POSTGRES=1 (CI).
 */
export function postgresReachable(): boolean {
  const probe = spawnSync(
    process.execPath,
    ['-e', `const {Client}=require('pg');const c=new Client({connectionString:process.argv[1],connectionTimeoutMillis:2000});c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))`, POSTGRES_ADMIN_URL],
    { cwd: __dirname, timeout: 10_000 },
  );
  if (probe.status === 0) return true;
  if (process.env.RELAY_REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL is required (RELAY_REQUIRE_POSTGRES=1) but ${POSTGRES_ADMIN_URL} is unreachable`);
  process.stderr.write(`skipping PostgreSQL tests: ${POSTGRES_ADMIN_URL} is unreachable (CI sets RELAY_REQUIRE_POSTGRES=1)\n`);
  return false;
}

/** A new, empty database on the test server: its URL, and a function that drops it. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `relay_test_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: POSTGRES_ADMIN_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
