import * as fs from 'node:fs';
import Database from 'better-sqlite3';
import { createRelayApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/config';
import { FAST, startRelay, tempDir } from '../support/relay';
import { RelayProcess, runUntilExit } from '../support/relay-process';

/** One relay per SQLite file: a second refuses to start, and a crash (kill -9) never leaves the file locked. */
describe('one relay per SQLite file', () => {
  const dir = tempDir('relay-db-lock-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a second process on the same file, naming it, while others can still read the file', async () => {
    const file = `${dir}/shared.db`;
    const first = await RelayProcess.start({ DATABASE_URL: `sqlite:///${file}` });
    try {
      const second = await runUntilExit({ DATABASE_URL: `sqlite:///${file}`, LOG_LEVEL: 'info' }, 15_000);
      expect(second.code).not.toBe(0);
      expect(second.output).toContain(`another relay is already using the database ${file}`);
      expect(second.output).not.toMatch(/listening on/);
      expect(second.output).not.toMatch(/\n\s+at \S/);

      const reader = new Database(file, { readonly: true, fileMustExist: true });
      expect(reader.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual({ n: 0 });
      reader.close();
      expect((await fetch(`${first.url}/health/ready`)).status).toBe(200);
    } finally {
      await first.kill();
    }
    // Killed with -9: the kernel dropped the lock, so a restart on the same file succeeds at once.
    const restarted = await RelayProcess.start({ DATABASE_URL: `sqlite:///${file}` });
    expect((await fetch(`${restarted.url}/health/ready`)).status).toBe(200);
    await restarted.kill();
  });

  it('refuses a second app in the same process until the first is closed', async () => {
    const config = loadConfig({ ...FAST, DATABASE_URL: `sqlite:///${dir}/in-process.db` });
    const first = await startRelay({ DATABASE_URL: config.databaseUrl }, dir);
    await expect(createRelayApp(config)).rejects.toThrow(
      `another relay is already using the database ${dir}/in-process.db`,
    );
    await first.close();
    const second = await startRelay({ DATABASE_URL: config.databaseUrl }, dir);
    await second.http.get('/health/ready').expect(200);
    await second.close();
  });

  it('takes no lock for an in-memory database: two such relays run side by side', async () => {
    const one = await startRelay({ DATABASE_URL: 'sqlite:///:memory:' });
    const two = await startRelay({ DATABASE_URL: 'sqlite:///:memory:' });
    await one.http.get('/health/ready').expect(200);
    await two.http.get('/health/ready').expect(200);
    await one.close();
    await two.close();
  });
});
