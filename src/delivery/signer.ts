import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  'x-signature': string;
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs a delivery body both ways with the client's secrets, newest first: the original
 * `X-Signature: sha256=<hex HMAC(secret, body)>` with the newest secret alone (keyed with its UTF-8 bytes), and
 * Standard Webhooks, one `v1,<base64 HMAC(key, id.timestamp.body)>` per secret, space-separated, whose key is the
 * secret's UTF-8 bytes, or its base64 payload when it is written `whsec_…` as the standard's libraries expect.
 */
export function signDelivery(
  secrets: readonly string[],
  webhookId: string,
  timestampSeconds: number,
  body: string,
): SignedHeaders {
  if (secrets.length === 0) throw new Error('a delivery needs at least one signing secret');
  const hex = createHmac('sha256', secrets[0]).update(body, 'utf8').digest('hex');
  const signed = `${webhookId}.${timestampSeconds}.${body}`;
  const v1 = secrets.map(
    (secret) => `v1,${createHmac('sha256', standardWebhooksKey(secret)).update(signed, 'utf8').digest('base64')}`,
  );
  return {
    'x-signature': `sha256=${hex}`,
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': v1.join(' '),
  };
}

export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** Stable for every attempt and redelivery of a job's result, so receivers can dedupe on it. */
export function webhookIdFor(jobId: string): string {
  return `msg_${jobId.replace(/^job_/, '')}`;
}
