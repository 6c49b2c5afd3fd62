import type { OutboundResponse } from '../scheduler/outbound-http';
import { ServerState } from './server-state';

const config = {
  name: 'gpu',
  url: 'https://gpu.example',
  apiKey: null,
  maxInFlight: 0,
  weight: 1,
  forwardPath: '/v1/reviews',
  cancelPath: null,
  healthPath: null,
};
const settings = {
  failureThreshold: 3,
  cooldownMs: 10_000,
  backoff: { maxRetries: Number.MAX_SAFE_INTEGER, backoffSeconds: 2, maxBackoffSeconds: 60 },
  retryAfterMaxSeconds: 3600,
};
const answer = (statusCode: number | null, retryAfter?: string): OutboundResponse => ({
  statusCode,
  retryAfter,
  error: statusCode === null ? 'ECONNRESET: socket hang up' : null,
  durationMs: 1,
});

describe('ServerState: circuit, pause and health of one LLM server', () => {
  it('opens after the threshold of retryable failures in a row, then lets one probe through, which closes it', () => {
    const server = new ServerState(config, settings);
    const t = 1_000_000;
    server.observe(answer(null), true, t);
    server.observe(answer(502), true, t);
    expect(server.state(t)).toBe('closed');
    server.observe(answer(null), true, t);
    expect([server.state(t), server.available(t), server.waitMs(t)]).toEqual(['open', false, 10_000]);
    const later = t + 10_001;
    expect([server.state(later), server.available(later)]).toEqual(['half-open', true]);
    server.sending(later);
    // The probe is out: nothing else goes until it is answered.
    expect(server.available(later)).toBe(false);
    server.observe(answer(202), false, later + 5);
    expect([server.state(later + 5), server.available(later + 5)]).toEqual(['closed', true]);
  });

  it('reopens when the probe fails, and a success in between resets the count', () => {
    const server = new ServerState(config, settings);
    const t = 5_000_000;
    server.observe(answer(500), true, t);
    server.observe(answer(500), true, t);
    server.observe(answer(202), false, t);
    server.observe(answer(500), true, t);
    expect(server.state(t)).toBe('closed');
    server.observe(answer(500), true, t);
    server.observe(answer(500), true, t);
    expect(server.state(t)).toBe('open');
    server.sending(t + 10_001);
    server.observe(answer(null), true, t + 10_002);
    expect(server.state(t + 10_002)).toBe('open');
    expect(server.waitMs(t + 10_002)).toBe(10_000);
  });

  it('pauses until Retry-After on a 429 or 503, for the backoff on a 503 without one, and not on a 429 without one', () => {
    const server = new ServerState({ ...config }, { ...settings, failureThreshold: 100 });
    const t = 9_000_000;
    server.observe(answer(429, '30'), true, t);
    expect([server.state(t), server.waitMs(t)]).toEqual(['paused', 30_000]);
    expect(server.state(t + 30_001)).toBe('closed');
    const other = new ServerState(config, { ...settings, failureThreshold: 100 });
    other.observe(answer(503), true, t);
    expect(other.state(t)).toBe('paused');
    expect(other.waitMs(t)).toBeGreaterThan(1_000);
    const plain = new ServerState(config, { ...settings, failureThreshold: 100 });
    plain.observe(answer(429), true, t);
    expect(plain.state(t)).toBe('closed');
  });

  it('is unavailable while its health probe fails, whatever else, until one succeeds', () => {
    const server = new ServerState(config, settings);
    server.probed(false);
    expect([server.state(), server.available(), server.waitMs()]).toEqual([
      'unhealthy',
      false,
      Number.POSITIVE_INFINITY,
    ]);
    server.probed(true);
    expect([server.state(), server.available()]).toEqual(['closed', true]);
  });
});
