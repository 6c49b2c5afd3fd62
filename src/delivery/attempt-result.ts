import type { OutboundResponse } from './outbound-http';

/** What one outbound attempt came to, before the retry policy has its say. */
export type AttemptVerdict = 'success' | 'retryable' | 'permanent';

/** Forward leg: retried on network errors, 408, 429 and 5xx; any other answer is final. */
export function judgeForward(response: OutboundResponse): AttemptVerdict {
  const status = response.statusCode;
  if (status === null) return response.error?.startsWith('blocked') ? 'permanent' : 'retryable';
  if (status >= 200 && status < 300) return 'success';
  if (status === 408 || status === 429 || status >= 500) return 'retryable';
  return 'permanent';
}

/**
 * Delivery leg: only 2xx succeeds; 410 means the receiver wants no more; 3xx is a failure and never followed.
 * Everything else is worth another try, since receivers' errors are mostly passing.
 */
export function judgeDelivery(response: OutboundResponse): AttemptVerdict {
  const status = response.statusCode;
  if (status === null) return response.error?.startsWith('blocked') ? 'permanent' : 'retryable';
  if (status >= 200 && status < 300) return 'success';
  if (status === 410) return 'permanent';
  return 'retryable';
}
