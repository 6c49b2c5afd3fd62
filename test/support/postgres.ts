import { spawnSync } from 'node:child_process';

/** The shared PostgreSQL server the suites create their own databases on. */
export const TEST_POSTGRES_URL = process.env.RELAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Reachable now? Checked synchronously, since Jest decides what to skip before any test runs. Unreachable skips with
 * a message, or fails under RELAY_REQUIRE_POSTGRES=1 (CI).
 */
export function postgresReachable(url: string = TEST_POSTGRES_URL): boolean {
  const probe = spawnSync(
    process.execPath,
    ['-e', `const {Client}=require('pg');const c=new Client({connectionString:process.argv[1],connectionTimeoutMillis:2000});c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))`, url],
    { cwd: __dirname, timeout: 10_000 },
  );
  if (probe.status === 0) return true;
  if (process.env.RELAY_REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL is required (RELAY_REQUIRE_POSTGRES=1) but ${url} is unreachable`);
  process.stderr.write(`skipping the PostgreSQL suite: ${url} is unreachable (CI sets RELAY_REQUIRE_POSTGRES=1)\n`);
  return false;
}
