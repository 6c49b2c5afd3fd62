import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { HttpService } from '@nestjs/axios';
import type { Readable } from 'node:stream';

export interface OutboundResponse {
  /** Null when no HTTP answer came (network error, deadline, refused destination). */
  statusCode: number | null;
  retryAfter: string | undefined;
  error: string | null;
  durationMs: number;
}

export interface OutboundRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  deadlineMs: number;
  agents: { http: HttpAgent; https: HttpsAgent };
}

/**
 * One POST with the safety settings user-supplied URLs need: a total deadline (axios' `timeout` only times
 * inactivity), no redirects, no proxy from the environment, and the response body discarded unread so a huge or
 * endless answer costs nothing. Transport errors become an outcome, never an exception.
 */
type AxiosInstance = HttpService['axiosRef'];

export async function postJson(http: AxiosInstance, request: OutboundRequest): Promise<OutboundResponse> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await http.post<Readable>(request.url, request.body, {
      headers: { 'content-type': 'application/json', ...request.headers },
      signal: AbortSignal.timeout(request.deadlineMs),
      timeout: request.deadlineMs,
      maxRedirects: 0,
      proxy: false,
      responseType: 'stream',
      decompress: false,
      validateStatus: () => true,
      httpAgent: request.agents.http,
      httpsAgent: request.agents.https,
    });
    response.data.destroy();
    const retryAfter = response.headers['retry-after'];
    return { statusCode: response.status, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, error: null, durationMs: elapsed() };
  } catch (error) {
    return { statusCode: null, retryAfter: undefined, error: describeTransportError(error), durationMs: elapsed() };
  }
}

/** The error of a refused destination: a permanent failure, never retried. */
export const BLOCKED = 'blocked: the destination address is not public';

/** A short reason safe to store and log: never the request config, which carries credentials. */
export function describeTransportError(error: unknown): string {
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'CanceledError' || err?.code === 'ERR_CANCELED' || err?.name === 'AbortError') return 'deadline exceeded';
  if (err?.code === 'ECONNABORTED' || err?.code === 'ETIMEDOUT') return 'deadline exceeded';
  if (/ is not allowed\. /.test(err?.message ?? '')) return BLOCKED;
  const message = (err?.message ?? String(error)).replace(/https?:\/\/\S+/g, '<url>');
  return (err?.code ? `${err.code}: ${message}` : message).slice(0, 300);
}
