import { DataSource } from 'typeorm';
import { DatabaseInUseError, DatabaseLock } from '../../src/database/database-lock';
import { startRelay, tempDir } from '../support/relay';

describe('the SQLite file lock at shutdown', () => {
  it('is held until the database is closed: no second relay can open the file while the first still writes', async () => {
    const dir = tempDir();
    const relay = await startRelay({}, dir);
    const dataSource = relay.app.get(DataSource);
    const target = { kind: 'sqlite' as const, file: `${dir}/relay.db` };
    expect(() => DatabaseLock.acquire(target).release()).toThrow(DatabaseInUseError);

    // Try to take the lock at every turn of the event loop while the app closes; note what the first success saw.
    let closed = false;
    let firstTaken: { databaseOpen: boolean; closeDone: boolean } | null = null;
    const attempts = (async () => {
      while (firstTaken === null) {
        try {
          DatabaseLock.acquire(target).release();
          firstTaken = { databaseOpen: dataSource.isInitialized, closeDone: closed };
        } catch (error) {
          if (!(error instanceof DatabaseInUseError)) throw error;
          if (closed) throw new Error('the lock was still held after the app had closed', { cause: error });
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    })();
    await relay.close();
    closed = true;
    await attempts;
    expect(firstTaken).not.toBeNull();
    expect(firstTaken!.databaseOpen).toBe(false);
  });
});
