import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, retryWhileUnavailable } from './database-outage';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    [
      'server shutting down the session',
      new QueryFailedError('SELECT 1', [], withCode('57P01', 'terminating connection due to administrator command')),
    ],
    ['server starting up', withCode('57P03', 'the database system is starting up')],
    ['connection exception class 08', new QueryFailedError('SELECT 1', [], withCode('08006'))],
    [
      'statement_timeout',
      new QueryFailedError('SELECT 1', [], withCode('57014', 'canceling statement due to statement timeout')),
    ],
    ['pg without a code', new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly'))],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['wrapped as a cause', new Error('outer', { cause: withCode('ECONNRESET') })],
  ])('%s: yes', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['unique violation', new QueryFailedError('INSERT', [], withCode('23505', 'duplicate key value'))],
    ['syntax error', new QueryFailedError('SELEC', [], withCode('42601'))],
    ['a bug', new TypeError('undefined is not a function')],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('%s: no', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('retryWhileUnavailable', () => {
  it('tries again while the database is away, and returns the first success', async () => {
    let calls = 0;
    const result = await retryWhileUnavailable(
      async () => {
        calls += 1;
        if (calls < 3) throw withCode('ECONNREFUSED');
        return 'written';
      },
      Date.now() + 5000,
      5,
    );
    expect(result).toBe('written');
    expect(calls).toBe(3);
  });

  it('gives up at the deadline, and at once on any other error', async () => {
    let calls = 0;
    const away = retryWhileUnavailable(
      async () => {
        calls += 1;
        throw withCode('ECONNREFUSED');
      },
      Date.now() + 60,
      10,
    );
    await expect(away).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(calls).toBeGreaterThan(1);
    calls = 0;
    const bug = retryWhileUnavailable(
      async () => {
        calls += 1;
        throw new TypeError('bug');
      },
      Date.now() + 5000,
      10,
    );
    await expect(bug).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });
});
