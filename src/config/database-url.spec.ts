import { loadConfig } from './config';
import type { ConfigError } from './config-reader';
import { describeDatabase, parseDatabaseUrl } from './database-url';

describe('describeDatabase', () => {
  it('names the absolute SQLite file, or memory', () => {
    expect(describeDatabase(parseDatabaseUrl('sqlite:///data/relay.db', '/srv/relay'))).toBe(
      'SQLite file /srv/relay/data/relay.db',
    );
    expect(describeDatabase(parseDatabaseUrl('sqlite:///:memory:'))).toBe(
      'SQLite in memory (nothing survives a restart)',
    );
  });

  it('names host, port and database of PostgreSQL, never the password', () => {
    const text = describeDatabase(
      parseDatabaseUrl('postgres://relay:s3cr%40t-pass@db.internal:6432/reviews?sslmode=require'),
    );
    expect(text).toBe('PostgreSQL database reviews on db.internal:6432');
    expect(text).not.toMatch(/s3cr|pass/);
    expect(describeDatabase(parseDatabaseUrl('postgresql://db.internal'))).toBe(
      'PostgreSQL database (the server default) on db.internal:5432',
    );
  });
});

describe('DATABASE_URL on PostgreSQL: TLS parameters checked at start', () => {
  const problems = (url: string): string[] => {
    try {
      loadConfig({ DATABASE_URL: url });
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };
  const base = 'postgres://relay:s3cret@db.internal:5432/relay';

  it('accepts the sslmode values node-postgres knows, and readable certificate files', () => {
    for (const mode of ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'])
      expect(problems(`${base}?sslmode=${mode}`)).toEqual([]);
    expect(problems(`${base}?sslmode=verify-full&sslrootcert=${__filename}`)).toEqual([]);
  });

  it('names an unknown sslmode or an unreadable file, never the password', () => {
    const found = problems(`${base}?sslmode=verify_full&sslrootcert=/nonexistent/ca.pem&sslkey=/nonexistent/key.pem`);
    expect(found).toEqual([
      'DATABASE_URL sslmode must be one of disable, prefer, require, verify-ca, verify-full, no-verify (got "verify_full")',
      'DATABASE_URL sslrootcert names a file that cannot be read: /nonexistent/ca.pem',
      'DATABASE_URL sslkey names a file that cannot be read: /nonexistent/key.pem',
    ]);
    expect(found.join()).not.toContain('s3cret');
    expect(problems(`${base}?sslmode=verify-ca&uselibpqcompat=true`)).toEqual([
      'DATABASE_URL sslmode=verify-ca with uselibpqcompat=true needs sslrootcert=<CA file>',
    ]);
  });
});
