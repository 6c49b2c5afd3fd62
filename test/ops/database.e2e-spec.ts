import { DataSource } from 'typeorm';
import { useLoopbackStack } from '../support/loopback-stack';

describe('the embedded SQLite database', () => {
  const stack = useLoopbackStack({ llm: false });

  it('is created by migrations (not synchronize) and runs in WAL mode', async () => {
    const db = stack.relay.app.get(DataSource);
    expect(db.options.synchronize).toBe(false);
    const migrations = await db.query('SELECT name FROM migrations');
    expect(migrations.map((m: { name: string }) => m.name)).toEqual([
      'InitialSchema1764150000000',
      'DeliveryRounds1795750000000',
      'HistoryScale1796000000000',
      'ChangeFeed1797000000000',
      'ResultContract1797100000000',
      'LlmCapacity1797200000000',
      'Clients1797300000000',
      'FairShare1797400000000',
      'LlmServers1797500000000',
      'Progress1797600000000',
      'TimeoutRetries1797700000000',
      'ServerLiveness1797800000000',
    ]);
    expect(await db.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    const columns = (await db.query('PRAGMA table_info(jobs)')).map((c: { name: string }) => c.name);
    expect(columns).toEqual(
      expect.arrayContaining(['callback_token_hashes', 'lease_token', 'lease_expires_at', 'next_attempt_at']),
    );
    expect(columns).not.toContain('callback_token');
  });

  it('answers readiness while the database is reachable', async () => {
    expect((await stack.relay.http.get('/health/live').expect(200)).body).toMatchObject({ status: 'ok' });
    const ready = (await stack.relay.http.get('/health/ready').expect(200)).body;
    expect(ready).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, intake: { status: 'up' } } });
  });
});
