import * as path from 'node:path';

export type DatabaseTarget =
  | { kind: 'sqlite'; /** ':memory:' or an absolute path */ file: string }
  | { kind: 'postgres'; url: string; /** connections per process (DATABASE_POOL_SIZE) */ poolSize?: number };

export const DEFAULT_DATABASE_POOL_SIZE = 10;

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
