import { problemsOf } from '../../test/support/config-problems';
import { loadConfig } from './config';

const PRODUCTION_OK = {
  NODE_ENV: 'production',
  CALLBACK_HMAC_SECRET: 'x'.repeat(40),
  RELAY_API_KEYS: 'key-one,key-two',
  LLM_API_URL: 'https://llm.internal.example',
};

describe('loadConfig', () => {
  it('listens on loopback outside production and on every interface in production, unless HOST says otherwise', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
    expect(loadConfig(PRODUCTION_OK).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...PRODUCTION_OK, HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
  });

  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      production: false,
      databaseUrl: 'sqlite:///./relay.db',
      llmApiUrl: null,
      llmForwardPath: '/v1/reviews',
      callbackHmacSecret: 'dev-secret',
      delivery: { maxRetries: 6, backoffSeconds: 2 },
      forward: { maxRetries: 6, backoffSeconds: 2 },
      allowPrivateWebhookUrls: true,
      simulationEnabled: true,
      relayApiKeys: [],
      httpKeepAliveTimeoutMs: 65_000,
      consoleEnabled: true,
    });
    expect(config.database).toEqual({ kind: 'sqlite', file: `${process.cwd()}/relay.db` });
  });

  it('reads DATABASE_URL as the Python tooling did', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:///data/x.db' }).database).toEqual({
      kind: 'sqlite',
      file: `${process.cwd()}/data/x.db`,
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:////var/lib/relay/x.db' }).database).toEqual({
      kind: 'sqlite',
      file: '/var/lib/relay/x.db',
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:///:memory:' }).database).toEqual({ kind: 'sqlite', file: ':memory:' });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h/db',
      poolSize: 10,
      statementTimeoutMs: 30_000,
    });
  });

  it('accepts fractional backoffs and parses lists', () => {
    const config = loadConfig({ CALLBACK_BACKOFF_SECONDS: '0.25', RELAY_API_KEYS: ' a , b,,c ' });
    expect(config.delivery.backoffSeconds).toBe(0.25);
    expect(config.relayApiKeys).toEqual(['a', 'b', 'c']);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      CALLBACK_MAX_RETRIES: '-1',
      CALLBACK_BACKOFF_SECONDS: 'abc',
      LLM_API_URL: 'ftp://x',
      ALLOW_PRIVATE_WEBHOOK_URLS: 'maybe',
      DATABASE_URL: 'mysql://x',
      LOG_LEVEL: 'loud',
      LLM_API_KEY: 'key\r\nX-Injected: 1',
      HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '0',
    });
    const names = problems.map((problem) => problem.split(' ')[0]);
    expect(names.sort()).toEqual(
      [
        'ALLOW_PRIVATE_WEBHOOK_URLS',
        'CALLBACK_BACKOFF_SECONDS',
        'CALLBACK_MAX_RETRIES',
        'DATABASE_URL',
        'HTTP_KEEP_ALIVE_TIMEOUT_SECONDS',
        'LLM_API_KEY',
        'LLM_API_URL',
        'LOG_LEVEL',
        'PORT',
      ].sort(),
    );
  });

  it('accepts a safe production configuration and turns dev conveniences off', () => {
    const config = loadConfig(PRODUCTION_OK);
    expect(config.production).toBe(true);
    expect(config.simulationEnabled).toBe(false);
    expect(config.allowPrivateWebhookUrls).toBe(false);
  });

  it.each([
    ['CALLBACK_HMAC_SECRET', { CALLBACK_HMAC_SECRET: undefined }],
    ['CALLBACK_HMAC_SECRET', { CALLBACK_HMAC_SECRET: 'dev-secret' }],
    ['CALLBACK_HMAC_SECRET', { CALLBACK_HMAC_SECRET: 'short' }],
    ['RELAY_API_KEYS', { RELAY_API_KEYS: '' }],
    ['LLM_API_URL', { LLM_API_URL: undefined }],
  ])('refuses production without a safe %s', (name, override) => {
    const problems = problemsOf({ ...PRODUCTION_OK, ...override });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name} `));
  });
});
