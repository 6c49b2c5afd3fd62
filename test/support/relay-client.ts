import request from 'supertest';
import { eventually } from './fake-server';

/** A review body as a web service sends it, with `overrides` on top. */
export function reviewBody(webhookUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    submission_id: 'subm-001',
    student_id: 'stu-42',
    file_refs: [{ url: 'https://files.example.com/1.pdf' }],
    metadata: { course: 'ML-101' },
    webhook_url: webhookUrl,
    ...overrides,
  };
}

export interface ClientOptions {
  /** Where submitted jobs are delivered, unless a body says otherwise. */
  webhookUrl?: string;
  /** Sent as X-API-Key on every request. */
  apiKey?: string;
}

export interface SubmitOptions {
  apiKey?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body, or null. */
  body: any;
  text: string;
}

/**
 * The relay's API as the tests use it, over real HTTP (supertest against its URL: an in-process relay or the built
 * one as a process alike).
 * Helpers that expect success throw with the status and body otherwise, so a failure says what the relay answered.
 */
export class RelayClient {
  constructor(
    readonly url: string,
    private readonly options: ClientOptions = {},
  ) {}

  /** supertest against the relay, for requests a test shapes itself. */
  get http(): ReturnType<typeof request> {
    return request(this.url);
  }

  get webhookUrl(): string {
    if (!this.options.webhookUrl) throw new Error('this client has no webhookUrl: pass a webhook_url in the body');
    return this.options.webhookUrl;
  }

  /** A review body for this client's receiver. */
  body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return reviewBody(
      overrides.webhook_url === undefined ? this.webhookUrl : (overrides.webhook_url as string),
      overrides,
    );
  }

  /** POSTs a review (`overrides` on top of `body()`), expects 202 and returns the job id. */
  async submit(overrides: Record<string, unknown> = {}, options: SubmitOptions = {}): Promise<string> {
    const answer = await this.submitAnswer(overrides, options);
    if (answer.status !== 202) throw new Error(`POST /v1/reviews answered ${answer.status}, not 202: ${answer.text}`);
    return answer.body.job_id as string;
  }

  /** POSTs a review and returns the answer whatever it is; network errors are thrown. */
  submitAnswer(overrides: Record<string, unknown> = {}, options: SubmitOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.apiKey) headers['x-api-key'] = options.apiKey;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    return this.post('/v1/reviews', this.body(overrides), headers);
  }

  /** POSTs `body` (JSON, or a string sent as it is with a JSON content type unless `headers` say otherwise). */
  async post(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const call = this.http.post(path).set({ ...this.authHeaders(), ...headers });
    if (body === undefined) return answer(call);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type'))
      call.set('content-type', 'application/json');
    return answer(call.send(typeof body === 'string' ? body : JSON.stringify(body)));
  }

  async get(path: string): Promise<Answer> {
    return answer(this.http.get(path).set(this.authHeaders()));
  }

  /** Any method, `body` sent as JSON when given; the answer whatever it is. */
  async call(
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const call = this.http[method](path).set({ ...this.authHeaders(), ...headers });
    if (body === undefined) return answer(call);
    return answer(call.set('content-type', 'application/json').send(JSON.stringify(body)));
  }

  /** GET /v1/reviews/{id}, expecting 200. */
  async job(jobId: string): Promise<any> {
    return this.expect200(`/v1/reviews/${jobId}`);
  }

  /** The job's attempts, optionally of one leg only. */
  async attempts(jobId: string, leg?: string): Promise<any[]> {
    const items: any[] = (await this.expect200(`/v1/reviews/${jobId}/attempts`)).items;
    return leg === undefined ? items : items.filter((item) => item.leg === leg);
  }

  /** The number of jobs a listing matches (`include_total`). */
  async total(query: Record<string, string | number> = {}): Promise<number> {
    const search = new URLSearchParams({
      ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
      limit: '1',
      include_total: 'true',
    });
    return (await this.expect200(`/v1/reviews?${search}`)).total;
  }

  /** Polls the job until its status is `wanted` (or one of them); returns the job as it was then. */
  async waitForStatus(jobId: string, wanted: string | string[], timeoutMs = 15_000): Promise<any> {
    const statuses = Array.isArray(wanted) ? wanted : [wanted];
    return eventually(
      async () => {
        const job = await this.job(jobId).catch(() => null);
        return job !== null && statuses.includes(job.status) && job;
      },
      `${jobId} to be ${statuses.join(' or ')}`,
      timeoutMs,
    );
  }

  /** The /metrics text. */
  async metrics(): Promise<string> {
    const answer = await this.get('/metrics');
    if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
    return answer.text;
  }

  /** One sample from a fresh scrape (see metricValue). */
  async metric(name: string, labels?: Record<string, string>): Promise<number | undefined> {
    return metricValue(await this.metrics(), name, labels);
  }

  private authHeaders(): Record<string, string> {
    return this.options.apiKey ? { 'x-api-key': this.options.apiKey } : {};
  }

  private async expect200(path: string): Promise<any> {
    const answer = await this.get(path);
    if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${answer.text}`);
    return answer.body;
  }
}

/** The answer, whatever its status; a request that gets none (refused, reset, 15 s without an answer) rejects. */
async function answer(call: request.Test): Promise<Answer> {
  const response = await call.timeout(15_000).ok(() => true);
  let body: unknown;
  try {
    body = response.text ? JSON.parse(response.text) : null;
  } catch {
    body = null;
  }
  return { status: response.status, headers: response.headers, body, text: response.text };
}

/**
 * One sample of a Prometheus text: `metricValue(text, 'relay_jobs', { status: 'queued' })`, or the series as it is
 * printed, `metricValue(text, 'relay_jobs{status="queued"}')`. Labels must match exactly (in any order); undefined
 * when the series is absent.
 */
export function metricValue(text: string, name: string, labels?: Record<string, string>): number | undefined {
  const series = parseSeries(
    labels
      ? `${name}{${Object.entries(labels)
          .map(([k, v]) => `${k}="${v}"`)
          .join(',')}}`
      : name,
  );
  for (const line of text.split('\n')) {
    const match = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    if (!match || line.startsWith('#')) continue;
    const sample = parseSeries(match[1]);
    if (sample.name === series.name && sameLabels(sample.labels, series.labels)) return Number(match[2]);
  }
  return undefined;
}

function parseSeries(series: string): { name: string; labels: Map<string, string> } {
  const brace = series.indexOf('{');
  if (brace < 0) return { name: series, labels: new Map() };
  const labels = new Map<string, string>();
  for (const [, key, value] of series.slice(brace + 1, -1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
    labels.set(key, value);
  return { name: series.slice(0, brace), labels };
}

function sameLabels(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([key, value]) => b.get(key) === value);
}
