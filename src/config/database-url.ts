import * as fs from 'node:fs';
import * as path from 'node:path';

export type DatabaseTarget =
  | { kind: 'sqlite'; /** ':memory:' or an absolute path */ file: string }
  | {
      kind: 'postgres';
      url: string;
      /** connections per process (DATABASE_POOL_SIZE) */
      poolSize?: number;
      /** PostgreSQL statement_timeout of every connection, ms; 0: the relay sets none (DATABASE_STATEMENT_TIMEOUT_MS) */
      statementTimeoutMs?: number;
    };

/** A SQLite database in a file (not `:memory:`): what has a WAL, a lock file and a folder to create. */
export function isSqliteFile(target: DatabaseTarget): target is { kind: 'sqlite'; file: string } {
  return target.kind === 'sqlite' && target.file !== ':memory:';
}

export const DEFAULT_DATABASE_POOL_SIZE = 10;
export const DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The sslmode values node-postgres 8 understands. Beware: without `uselibpqcompat=true`, prefer, require and
 * verify-ca all mean verify-full (certificate and host name checked); `no-verify` encrypts without checking.
 */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];
/** Query parameters naming files the driver reads when it connects. */
const SSL_FILES = ['sslrootcert', 'sslcert', 'sslkey'];

/**
 * Reads DATABASE_URL the way the original Python tooling did: `sqlite:///` followed by a path relative to the
 * working directory, `sqlite:////abs/path.db` for an absolute one, `sqlite:///:memory:` for memory.
 */
export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  const match = /^sqlite:\/\/\/(.+)$/i.exec(url);
  if (!match) {
    throw new Error(
      `DATABASE_URL must be sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory: or postgres://… (got "${url}")`,
    );
  }
  const rest = match[1];
  if (rest === ':memory:') return { kind: 'sqlite', file: ':memory:' };
  return { kind: 'sqlite', file: rest.startsWith('/') ? rest : path.resolve(cwd, rest) };
}

/**
 * What would make a postgres:// URL fail only once the driver connects (retried for half a minute by then): a URL
 * that does not parse, an sslmode node-postgres does not know, a certificate or key file that cannot be read. Says
 * nothing about the password.
 */
export function postgresUrlProblems(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ['is not a valid postgres:// URL (percent-encode special characters in the user name and password)'];
  }
  const problems: string[] = [];
  const query = parsed.searchParams;
  const mode = query.get('sslmode');
  if (mode !== null && !SSL_MODES.includes(mode))
    problems.push(`sslmode must be one of ${SSL_MODES.join(', ')} (got "${mode}")`);
  if (mode === 'verify-ca' && query.get('uselibpqcompat') === 'true' && !query.get('sslrootcert')) {
    problems.push('sslmode=verify-ca with uselibpqcompat=true needs sslrootcert=<CA file>');
  }
  for (const name of SSL_FILES) {
    const file = query.get(name);
    if (file === null) continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch {
      problems.push(`${name} names a file that cannot be read: ${file}`);
    }
  }
  return problems;
}

/** For the start-up log: where the data lives, without credentials. */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') {
    return target.file === ':memory:' ? 'SQLite in memory (nothing survives a restart)' : `SQLite file ${target.file}`;
  }
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    return 'PostgreSQL (its URL does not parse; the driver will say why)';
  }
  const database = url.pathname.replace(/^\//, '') || '(the server default)';
  return `PostgreSQL database ${database} on ${url.hostname || 'localhost'}:${url.port || '5432'}`;
}
