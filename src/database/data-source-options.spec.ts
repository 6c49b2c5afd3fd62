import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StartupError } from '../common/startup-error';
import { loadConfig } from '../config/config';
import { ConfigError } from '../config/config-reader';
import { buildDataSourceOptions, ensureDirectoryOf } from './data-source-options';

describe('DATABASE_POOL_SIZE', () => {
  const postgres = 'postgres://relay@db.example.com/relay';
  const poolMax = (env: NodeJS.ProcessEnv) => {
    const options = buildDataSourceOptions(loadConfig({ DATABASE_URL: postgres, ...env }).database, []);
    return (options as { extra?: { max?: number } }).extra?.max;
  };

  it('sizes the PostgreSQL pool: 10 connections per process unless set', () => {
    expect(poolMax({})).toBe(10);
    expect(poolMax({ DATABASE_POOL_SIZE: '25' })).toBe(25);
  });

  it('is validated even on SQLite, naming the variable', () => {
    for (const bad of ['0', 'ten', '1001']) {
      let error: unknown;
      try {
        loadConfig({ DATABASE_POOL_SIZE: bad });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        expect.stringMatching(/^DATABASE_POOL_SIZE must be a (whole )?number from 1 to 1000/),
      ]);
    }
  });
});

describe('DATABASE_STATEMENT_TIMEOUT_MS', () => {
  const postgres = 'postgres://relay@db.example.com/relay';
  const extra = (env: NodeJS.ProcessEnv) =>
    (
      buildDataSourceOptions(loadConfig({ DATABASE_URL: postgres, ...env }).database, []) as {
        extra?: Record<string, unknown>;
      }
    ).extra;

  it('sets statement_timeout on every PostgreSQL connection: 30 s unless set, none at 0', () => {
    expect(extra({})).toMatchObject({ statement_timeout: 30_000 });
    expect(extra({ DATABASE_STATEMENT_TIMEOUT_MS: '5000' })).toMatchObject({ statement_timeout: 5000 });
    expect(extra({ DATABASE_STATEMENT_TIMEOUT_MS: '0' })).not.toHaveProperty('statement_timeout');
  });

  it('is validated, naming the variable', () => {
    for (const bad of ['-1', '1.5', 'soon', '86400001']) {
      expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: bad })).toThrow(
        expect.objectContaining({
          problems: [
            expect.stringMatching(/^DATABASE_STATEMENT_TIMEOUT_MS must be a (whole )?number from 0 to 86400000/),
          ],
        }),
      );
    }
  });
});

describe('ensureDirectoryOf', () => {
  it('creates missing folders one level at a time', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-dirs-'));
    ensureDirectoryOf(path.join(root, 'a', 'b', 'relay.db'));
    expect(fs.statSync(path.join(root, 'a', 'b')).isDirectory()).toBe(true);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('stops at once, naming the folder, where one cannot be made (mkdirSync recursive spins on /proc)', () => {
    const started = Date.now();
    expect(() => ensureDirectoryOf('/proc/no-such-folder/relay.db')).toThrow(
      /cannot create the folder \/proc\/no-such-folder for the SQLite database \/proc\/no-such-folder\/relay\.db \((ENOENT|EACCES|EPERM|EROFS)\); set DATABASE_URL/,
    );
    expect(() => ensureDirectoryOf('/proc/no-such-folder/relay.db')).toThrow(StartupError);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
