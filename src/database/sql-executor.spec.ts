import { DataSource } from 'typeorm';
import { memoryJobs, type MemoryJobs } from '../../test/support/memory-database';
import { Job } from '../jobs/job.entity';
import { Dialect } from './dialect';
import { DbValue } from './sql-executor';

describe('Dialect', () => {
  it('numbers placeholders on PostgreSQL only, and names an index on SQLite only', () => {
    const postgres = new Dialect('postgres');
    const sqlite = new Dialect('better-sqlite3');
    expect(postgres.placeholders('a = ? AND b IN (?, ?)')).toBe('a = $1 AND b IN ($2, $3)');
    expect(sqlite.placeholders('a = ?')).toBe('a = ?');
    expect(sqlite.indexedBy('jobs', 'idx')).toBe('jobs INDEXED BY idx');
    expect(postgres.indexedBy('jobs', 'idx')).toBe('jobs');
    expect(postgres.skipLocked).toBe(' FOR UPDATE SKIP LOCKED');
    expect(sqlite.skipLocked).toBe('');
    expect(sqlite.visibleChangeBound).toBeNull();
    expect(Dialect.of({ options: { type: 'postgres' } } as DataSource).postgres).toBe(true);
  });
});

describe('SqlExecutor on SQLite', () => {
  let db: MemoryJobs;

  beforeEach(async () => {
    db = await memoryJobs();
  });
  afterEach(() => db.close());

  it('writes through the entity columns and transformers, and computes DbValues in the database', async () => {
    const id = await db.submit({ metadata: { 'a.b': [1, { c: null }], db: 'now' } });
    const before = Date.now();
    const changed = await db.sql.update(
      Job,
      {
        result: { db: 'property', property: 'forwardAttempts' },
        forwardAttempts: DbValue.property('forwardAttempts', 2),
        nextAttemptAt: DbValue.now(5_000),
        errorMessage: DbValue.concat("it's ", 'submissionId'),
      },
      'id = ?',
      [id],
    );
    expect(changed).toBe(1);
    const job = await db.row(id);
    expect(job.metadata).toEqual({ 'a.b': [1, { c: null }], db: 'now' });
    // Users' JSON that looks like a DbValue is written as JSON, never as SQL.
    expect(job.result).toEqual({ db: 'property', property: 'forwardAttempts' });
    expect(job.forwardAttempts).toBe(2);
    expect(job.nextAttemptAt! - before).toBeGreaterThanOrEqual(4_000);
    expect(job.errorMessage).toBe(`it's ${job.submissionId}`);
  });

  it('answers the rows changed, and 0 when the condition no longer holds', async () => {
    const id = await db.submit();
    expect(await db.sql.update(Job, { status: 'processing' }, 'id = ? AND status = ?', [id, 'queued'])).toBe(1);
    expect(await db.sql.update(Job, { status: 'processing' }, 'id = ? AND status = ?', [id, 'queued'])).toBe(0);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const id = await db.submit();
    await db.sql.transaction((execute) => execute('UPDATE jobs SET submission_id = ? WHERE id = ?', ['kept', id]));
    await expect(
      db.sql.transaction(async (execute) => {
        await execute('UPDATE jobs SET submission_id = ? WHERE id = ?', ['lost', id]);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect((await db.row(id)).submissionId).toBe('kept');
  });

  it('refuses a property the entity does not have', async () => {
    await expect(db.sql.update(Job, { nope: 1 }, 'id = ?', ['x'])).rejects.toThrow('No column for nope');
  });
});
