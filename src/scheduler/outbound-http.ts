import * as http from 'node:http';
import * as https from 'node:https';

export interface OutboundResponse {
  /** Null when no HTTP answer came (network error, deadline, refused destination). */
  statusCode: number | null;
  retryAfter: string | undefined;
  error: string | null;
  durationMs: number;
}

export interface OutboundRequest {
  /** POST (the default) with the JSON body, or GET without one. */
  method?: 'POST' | 'GET';
  url: string;
  body: string;
  headers: Record<string, string>;
  deadlineMs: number;
  agents: { http: http.Agent; https: https.Agent };
}

/** An answer's body is read (and thrown away) up to this size so its connection can be reused; past it, closed. */
const MAX_DRAINED_BYTES = 64 * 1024;

/**
 * One POST with the safety settings user-supplied URLs need, on node:http with keep-alive agents: a total deadline
 * (AbortSignal, not an inactivity timer), no redirects followed, no proxy from the environment, and only the status
 * and Retry-After read from the answer. Its body is discarded: drained when small so the socket goes back to the
 * pool, cut off past MAX_DRAINED_BYTES so a huge or endless answer costs nothing. Transport errors become an
 * outcome, never an exception.
 */
export function postJson(request: OutboundRequest): Promise<OutboundResponse> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (response: Omit<OutboundResponse, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...response, durationMs: elapsed() });
    };
    const fail = (error: unknown) =>
      settle({ statusCode: null, retryAfter: undefined, error: describeTransportError(error) });
    try {
      const url = new URL(request.url);
      const secure = url.protocol === 'https:';
      const outgoing = (secure ? https : http).request(url, {
        method: request.method ?? 'POST',
        agent: secure ? request.agents.https : request.agents.http,
        headers:
          request.method === 'GET'
            ? request.headers
            : {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(request.body),
                ...request.headers,
              },
        signal: AbortSignal.timeout(request.deadlineMs),
      });
      outgoing.on('response', (answer) => {
        const retryAfter = answer.headers['retry-after'];
        settle({
          statusCode: answer.statusCode ?? null,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
          error: null,
        });
        discard(answer);
      });
      outgoing.on('error', fail);
      outgoing.end(request.method === 'GET' ? undefined : request.body);
    } catch (error) {
      fail(error);
    }
  });
}

/** A GET under the same rules (a health probe): its status, or null when no answer came within the deadline. */
export async function getStatus(
  url: string,
  deadlineMs: number,
  agents: OutboundRequest['agents'],
  headers: Record<string, string> = {},
): Promise<number | null> {
  const response = await postJson({ method: 'GET', url, body: '', headers, deadlineMs, agents });
  return response.statusCode;
}

function discard(answer: http.IncomingMessage): void {
  let received = 0;
  answer.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > MAX_DRAINED_BYTES) answer.destroy();
  });
  answer.on('error', () => undefined);
}

/** The error of a refused destination: a permanent failure, never retried. */
export const BLOCKED = 'blocked: the destination address is not public';

/** A short reason safe to store and log: never the request config, which carries credentials. */
export function describeTransportError(error: unknown): string {
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'AbortError' || err?.code === 'ABORT_ERR' || err?.name === 'TimeoutError')
    return 'deadline exceeded';
  if (err?.code === 'ECONNABORTED' || err?.code === 'ETIMEDOUT') return 'deadline exceeded';
  if (/ is not allowed\. /.test(err?.message ?? '')) return BLOCKED;
  const message = (err?.message ?? String(error)).replace(/https?:\/\/\S+/g, '<url>');
  return (err?.code ? `${err.code}: ${message}` : message).slice(0, 300);
}
