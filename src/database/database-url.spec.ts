import { describeDatabase, parseDatabaseUrl } from './database-url';

describe('describeDatabase', () => {
  it('names the absolute SQLite file, or memory', () => {
    expect(describeDatabase(parseDatabaseUrl('sqlite:///data/relay.db', '/srv/relay'))).toBe('SQLite file /srv/relay/data/relay.db');
    expect(describeDatabase(parseDatabaseUrl('sqlite:///:memory:'))).toBe('SQLite in memory (nothing survives a restart)');
  });

  it('names host, port and database of PostgreSQL, never the password', () => {
    const text = describeDatabase(parseDatabaseUrl('postgres://relay:s3cr%40t-pass@db.internal:6432/reviews?sslmode=require'));
    expect(text).toBe('PostgreSQL database reviews on db.internal:6432');
    expect(text).not.toMatch(/s3cr|pass/);
    expect(describeDatabase(parseDatabaseUrl('postgresql://db.internal'))).toBe('PostgreSQL database (the server default) on db.internal:5432');
  });
});
