import { loadConfig } from '../config/config';
import { ConfigError } from '../config/config-reader';
import { buildDataSourceOptions } from './data-source-options';

describe('DATABASE_POOL_SIZE', () => {
  const postgres = 'postgres://relay@db.example.com/relay';
  const poolMax = (env: NodeJS.ProcessEnv) => {
    const options = buildDataSourceOptions(loadConfig({ DATABASE_URL: postgres, ...env }).database);
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
      expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^DATABASE_POOL_SIZE must be a (whole )?number from 1 to 1000/)]);
    }
  });
});
