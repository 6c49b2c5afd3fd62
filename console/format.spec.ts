import {
  actionsFor,
  clientLabel,
  graceSeconds,
  parsePrefixes,
  countOf,
  describeError,
  formatAge,
  formatAnswer,
  formatDuration,
  formatRelative,
  formatTime,
  isJobId,
  limitLabel,
  parseRoute,
  parseSettings,
  routeHref,
  settingsLine,
  settingsTexts,
  capacityLabel,
  serverStateClass,
  serverStateLabel,
} from './format.js';
import { apiBase } from './api.js';

describe('console formatting', () => {
  it('formats ages at every scale', () => {
    expect(formatAge(null)).toBe('—');
    expect(formatAge(0)).toBe('0 s');
    expect(formatAge(59.9)).toBe('59 s');
    expect(formatAge(65)).toBe('1 min 5 s');
    expect(formatAge(2 * 3600 + 10 * 60 + 7)).toBe('2 h 10 min');
    expect(formatAge(3 * 86400 + 4 * 3600)).toBe('3 d 4 h');
  });

  it('counts in the singular for one and the plural otherwise', () => {
    expect(`${countOf(1, 'attempt')} in ${countOf(1, 'round')}`).toBe('1 attempt in 1 round');
    expect(`${countOf(7, 'attempt')} in ${countOf(2, 'round')}`).toBe('7 attempts in 2 rounds');
    expect(countOf(0, 'attempt')).toBe('0 attempts');
  });

  it('formats durations, times and relative times', () => {
    expect(formatDuration(85)).toBe('85 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatTime('2026-11-27T10:30:25.123Z')).toBe('2026-11-27 10:30:25 UTC');
    expect(formatTime(null)).toBe('—');
    const now = Date.parse('2026-11-27T10:30:25Z');
    expect(formatRelative('2026-11-27T10:30:13Z', now)).toBe('12 s ago');
    expect(formatRelative('2026-11-27T10:33:25Z', now)).toBe('in 3 min 0 s');
  });

  it("shows the other side's answer: status, error, both or nothing", () => {
    expect(formatAnswer(500, null)).toBe('HTTP 500');
    expect(formatAnswer(null, 'ECONNREFUSED')).toBe('ECONNREFUSED');
    expect(formatAnswer(503, 'Retry-After 5')).toBe('HTTP 503: Retry-After 5');
    expect(formatAnswer(null, null)).toBe('—');
  });

  it('offers the actions the API allows in each status', () => {
    expect(actionsFor('delivery_failed', true)).toEqual({ redeliver: true, cancel: false, simulate: false });
    expect(actionsFor('delivered', false)).toEqual({ redeliver: true, cancel: false, simulate: false });
    expect(actionsFor('processing', true)).toEqual({ redeliver: false, cancel: true, simulate: true });
    expect(actionsFor('queued', false)).toEqual({ redeliver: false, cancel: true, simulate: false });
    expect(actionsFor('delivering', true)).toEqual({ redeliver: false, cancel: true, simulate: false });
    expect(actionsFor('cancelled', true)).toEqual({ redeliver: false, cancel: false, simulate: false });
  });

  it('tells job ids from submission ids', () => {
    expect(isJobId(' job_3f9c2a7be0d14c55a1e6b0c7d8e9f012 ')).toBe(true);
    expect(isJobId('job_123')).toBe(false);
    expect(isJobId('subm-001')).toBe(false);
  });

  it('reads and writes routes in the fragment', () => {
    expect(parseRoute('')).toEqual({ path: '/', params: {} });
    expect(parseRoute('#/jobs?status=queued&submission_id=a%20b')).toEqual({
      path: '/jobs',
      params: { status: 'queued', submission_id: 'a b' },
    });
    expect(routeHref('/jobs', { status: 'queued', cursor: '', submission_id: undefined })).toBe('#/jobs?status=queued');
    expect(parseRoute(routeHref('/jobs', { submission_id: 'x&y=z' })).params).toEqual({ submission_id: 'x&y=z' });
  });

  it('describes API errors and network errors', () => {
    expect(describeError({ status: 401, body: { code: 'unauthorized', message: 'Missing or wrong API key' } })).toBe(
      '401 unauthorized: Missing or wrong API key',
    );
    expect(describeError(new TypeError('Failed to fetch'))).toBe('Failed to fetch');
  });

  it('finds the API beside the console, under any path prefix', () => {
    expect(apiBase('https://relay.example.com/console/')).toBe('https://relay.example.com/');
    expect(apiBase('https://ops.example.com/relay/console/#/failed')).toBe('https://ops.example.com/relay/');
    expect(apiBase('http://127.0.0.1:8080/console/index.html')).toBe('http://127.0.0.1:8080/');
  });

  it('reads webhook URL prefixes one per line, and a grace period in hours', () => {
    expect(parsePrefixes('  https://a.example/hooks/ \n\n\r\nhttps://b.example/\r\n')).toEqual([
      'https://a.example/hooks/',
      'https://b.example/',
    ]);
    expect(parsePrefixes('   ')).toEqual([]);
    expect(graceSeconds('24')).toBe(86_400);
    expect(graceSeconds(' 0.5 ')).toBe(1800);
    expect(graceSeconds('0')).toBe(0);
    expect(graceSeconds('168')).toBe(604_800);
    for (const bad of ['169', '-1', '', 'abc', '1e3', '2 h'])
      expect({ bad, seconds: graceSeconds(bad) }).toEqual({ bad, seconds: null });
  });

  it('names a client by its name and id, or by its id when the name is not known', () => {
    const names = new Map([['cli_0123456789abcdef01234567', 'Course platform']]);
    expect(clientLabel('cli_0123456789abcdef01234567', names)).toBe('Course platform (cli_0123456789abcdef01234567)');
    expect(clientLabel('default', names)).toBe('default');
    expect(clientLabel('default', null)).toBe('default');
  });

  it("shows a client's weight and limits, 0 as none", () => {
    expect(limitLabel(0)).toBe('none');
    expect(limitLabel(25)).toBe('25');
    expect(settingsLine({ weight: 3, max_in_flight: 2, max_backlog: 0, intake_rate_limit: 0 })).toBe(
      'weight 3 · max in flight 2 · backlog none · rate none',
    );
    expect(settingsTexts({ weight: 5, max_in_flight: 0, max_backlog: 10, intake_rate_limit: 7 })).toEqual({
      weight: '5',
      max_in_flight: '0',
      max_backlog: '10',
      intake_rate_limit: '7',
    });
  });

  it('reads the settings typed in a form within the bounds the relay checks', () => {
    const ok = { weight: ' 3 ', max_in_flight: '2', max_backlog: '', intake_rate_limit: '10000000' };
    expect(parseSettings(ok)).toEqual({
      values: { weight: 3, max_in_flight: 2, max_backlog: 0, intake_rate_limit: 10_000_000 },
    });
    const weight = 'Weight is a whole number from 1 to 100.';
    for (const bad of ['0', '101', '', '1.5', '-1', 'two', '1e2'])
      expect(parseSettings({ ...ok, weight: bad })).toEqual({ problem: weight });
    expect(parseSettings({ ...ok, max_backlog: '10000001' })).toEqual({
      problem: 'Max backlog is a whole number from 0 to 10,000,000.',
    });
    expect(parseSettings({ ...ok, intake_rate_limit: '-5' }).problem).toMatch(/^Intake rate limit /);
  });

  it("names an LLM server's state in words, with a class per state, and its capacity, 0 as no limit", () => {
    expect(['closed', 'open', 'half-open', 'paused', 'unhealthy'].map(serverStateLabel)).toEqual([
      'healthy',
      'circuit open',
      'probing',
      'paused',
      'unhealthy',
    ]);
    expect(serverStateClass('half-open')).toBe('server-half-open');
    expect(serverStateLabel('draining')).toBe('draining');
    expect(serverStateClass('draining')).toBe('server-other');
    expect(serverStateLabel('toString')).toBe('toString');
    expect(capacityLabel(0)).toBe('no limit');
    expect(capacityLabel(3)).toBe('3');
  });
});
