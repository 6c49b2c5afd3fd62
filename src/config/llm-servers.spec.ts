import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { problemsOf } from '../../test/support/config-problems';
import { loadConfig } from './config';

const servers = (list: unknown) => ({ LLM_SERVERS: JSON.stringify(list) });

describe('LLM_SERVERS', () => {
  it('without it, LLM_API_URL (or the simulation) is one server named default, with the LLM_* settings', () => {
    expect(
      loadConfig({ LLM_API_URL: 'https://llm.example/', LLM_API_KEY: 'k', LLM_CANCEL_PATH: '/c/{job_id}' }).llmServers,
    ).toEqual([
      {
        name: 'default',
        url: 'https://llm.example/',
        apiKey: 'k',
        maxInFlight: 0,
        weight: 1,
        forwardPath: '/v1/reviews',
        cancelPath: '/c/{job_id}',
        healthPath: null,
      },
    ]);
    expect(loadConfig({}).llmServers[0]).toMatchObject({ name: 'default', url: null });
  });

  it('reads each server, its key from the variable api_key_env names, and the defaults it leaves out', () => {
    const config = loadConfig({
      ...servers([
        {
          name: 'gpu-a',
          url: 'https://a.example:8443/',
          api_key_env: 'GPU_A_KEY',
          max_in_flight: 8,
          weight: 3,
          health_path: '/healthz',
        },
        { name: 'gpu_b', url: 'http://b.example', cancel_path: '/jobs/{job_id}/cancel' },
      ]),
      GPU_A_KEY: 'secret-a',
      LLM_API_KEY: 'shared',
      LLM_FORWARD_PATH: '/review',
    });
    expect(config.llmServers).toEqual([
      {
        name: 'gpu-a',
        url: 'https://a.example:8443',
        apiKey: 'secret-a',
        maxInFlight: 8,
        weight: 3,
        forwardPath: '/review',
        cancelPath: null,
        healthPath: '/healthz',
      },
      {
        name: 'gpu_b',
        url: 'http://b.example',
        apiKey: 'shared',
        maxInFlight: 0,
        weight: 1,
        forwardPath: '/review',
        cancelPath: '/jobs/{job_id}/cancel',
        healthPath: null,
      },
    ]);
  });

  it('reads LLM_SERVERS_FILE', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'relay-servers-')), 'servers.json');
    fs.writeFileSync(file, JSON.stringify([{ name: 'only', url: 'https://only.example' }]));
    expect(loadConfig({ LLM_SERVERS_FILE: file }).llmServers.map((server) => server.name)).toEqual(['only']);
    expect(problemsOf({ LLM_SERVERS_FILE: `${file}.missing` })[0]).toMatch(/^LLM_SERVERS_FILE cannot be read/);
  });

  it('names the server and the field of every problem, all at once', () => {
    const problems = problemsOf({
      ...servers([
        { name: 'ok', url: 'https://ok.example' },
        { name: 'bad name!', url: 'https://x.example' },
        { name: 'no-url' },
        { name: 'creds', url: 'https://u:p@x.example' },
        { name: 'numbers', url: 'https://n.example', max_in_flight: -1, weight: 101 },
        { name: 'paths', url: 'https://p.example', forward_path: 'no-slash', cancel_path: '/c/{job}', health_path: 3 },
        { name: 'key', url: 'https://k.example', api_key_env: 'NOT_SET_ANYWHERE' },
        { name: 'extra', url: 'https://e.example', region: 'eu' },
        { name: 'ok', url: 'https://twice.example' },
        'not an object',
      ]),
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'LLM_SERVERS entry 2: name must be 1 to 64 letters, digits, "-" or "_"',
        'LLM_SERVERS server no-url: url must be an absolute http(s) URL',
        'LLM_SERVERS server creds: url must be an absolute http(s) URL',
        'LLM_SERVERS server numbers: max_in_flight must be a whole number from 0 to 1000000',
        'LLM_SERVERS server numbers: weight must be a whole number from 1 to 100',
        'LLM_SERVERS server paths: forward_path must be a URL path starting with "/"',
        'LLM_SERVERS server paths: cancel_path must be a URL path starting with "/" ({job_id} allowed)',
        'LLM_SERVERS server paths: health_path must be a URL path starting with "/"',
        'LLM_SERVERS server key: api_key_env names NOT_SET_ANYWHERE, which is not set',
        'LLM_SERVERS server extra: region is not a known field',
        'LLM_SERVERS server ok: name is used twice (names are unique)',
        'LLM_SERVERS entry 10 must be an object',
      ]),
    );
  });

  it('refuses LLM_API_URL beside it, an empty or non-array list, and bad JSON', () => {
    expect(
      problemsOf({ ...servers([{ name: 'a', url: 'https://a.example' }]), LLM_API_URL: 'https://b.example' }),
    ).toEqual(['LLM_API_URL must not be set with LLM_SERVERS (list that server there instead)']);
    expect(problemsOf(servers([]))).toEqual(['LLM_SERVERS must be a JSON array of 1 to 100 servers']);
    expect(problemsOf(servers({ name: 'a' }))).toEqual(['LLM_SERVERS must be a JSON array of 1 to 100 servers']);
    expect(problemsOf({ LLM_SERVERS: '[{' })[0]).toMatch(/^LLM_SERVERS must be a JSON array of servers: /);
  });

  it('validates the circuit, cooldown and health interval', () => {
    expect(loadConfig({})).toMatchObject({
      llmServerFailureThreshold: 5,
      llmServerCooldownMs: 30_000,
      llmServerHealthIntervalMs: 5_000,
    });
    const problems = problemsOf({
      LLM_SERVER_FAILURE_THRESHOLD: '0',
      LLM_SERVER_COOLDOWN_SECONDS: '3601',
      LLM_SERVER_HEALTH_INTERVAL_SECONDS: 'soon',
    });
    expect(problems.map((problem) => problem.split(' ')[0])).toEqual([
      'LLM_SERVER_FAILURE_THRESHOLD',
      'LLM_SERVER_COOLDOWN_SECONDS',
      'LLM_SERVER_HEALTH_INTERVAL_SECONDS',
    ]);
  });

  it('satisfies production without LLM_API_URL', () => {
    const production = { NODE_ENV: 'production', CALLBACK_HMAC_SECRET: 'x'.repeat(40), RELAY_API_KEYS: 'k' };
    expect(problemsOf(production)).toContain(
      'LLM_API_URL or LLM_SERVERS must be set in production (the simulated LLM is for development)',
    );
    expect(problemsOf({ ...production, ...servers([{ name: 'a', url: 'https://a.example' }]) })).toEqual([]);
  });
});
