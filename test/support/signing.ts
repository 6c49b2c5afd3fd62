import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { RecordedRequest } from './fake-server';
import { type Answer, RelayClient } from './relay-client';

/** A RELAY_ENCRYPTION_KEY: base64 of 32 random bytes. */
export function newEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

/** The key id a ciphertext names: the first 8 hex digits of the SHA-256 of the key's bytes (computed here, not in src/). */
export function encryptionKeyId(base64Key: string): string {
  return createHash('sha256').update(Buffer.from(base64Key, 'base64')).digest('hex').slice(0, 8);
}

/** `whsec_` + base64 of `bytes` random bytes (a signing secret a receiver could supply). */
export function newWhsec(bytes = 32): string {
  return 'whsec_' + randomBytes(bytes).toString('base64');
}

export interface CreatedClient {
  client_id: string;
  api_key: string;
  signing_secret: string;
  [field: string]: unknown;
}

/** The management API with an admin key (sent as `Authorization: Bearer`). */
export class Admin {
  private readonly api: RelayClient;

  constructor(
    url: string,
    private readonly adminKey: string,
  ) {
    this.api = new RelayClient(url);
  }

  private get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.adminKey}` };
  }

  post(path: string, body?: unknown): Promise<Answer> {
    return this.api.post(path, body, this.auth);
  }

  async get(path: string): Promise<Answer> {
    const response = await this.api.http
      .get(path)
      .set(this.auth)
      .ok(() => true);
    return { status: response.status, headers: response.headers, body: response.body, text: response.text };
  }

  patch(path: string, body: unknown): Promise<Answer> {
    return this.api.call('patch', path, body, this.auth);
  }

  async delete(path: string): Promise<Answer> {
    const response = await this.api.http
      .delete(path)
      .set(this.auth)
      .ok(() => true);
    return { status: response.status, headers: response.headers, body: response.body, text: response.text };
  }

  /** POST /v1/clients, expecting 201. */
  async createClient(name = 'web service'): Promise<CreatedClient> {
    const answer = await this.post('/v1/clients', { name });
    if (answer.status !== 201) throw new Error(`POST /v1/clients answered ${answer.status}: ${answer.text}`);
    return answer.body as CreatedClient;
  }

  /** POST /v1/clients/{id}/api-keys, expecting 201. */
  async issueKey(clientId: string): Promise<{ key_id: string; api_key: string }> {
    const answer = await this.post(`/v1/clients/${clientId}/api-keys`);
    if (answer.status !== 201) throw new Error(`issuing a key answered ${answer.status}: ${answer.text}`);
    return answer.body;
  }

  /** The rotation's answer, whatever it is. */
  rotateAnswer(clientId: string, body: Record<string, unknown> = {}): Promise<Answer> {
    return this.post(`/v1/clients/${clientId}/signing-secret/rotate`, body);
  }

  /** A rotation expected to succeed (200): its new secret and when the previous ones stop signing. */
  async rotate(
    clientId: string,
    body: { grace_period_seconds?: number; signing_secret?: string } = {},
  ): Promise<{ signing_secret: string; previous_expires_at: string }> {
    const answer = await this.rotateAnswer(clientId, body);
    if (answer.status !== 200) throw new Error(`rotate answered ${answer.status}: ${answer.text}`);
    return answer.body;
  }
}

/** Headers a client's own key sends. */
export const bearer = (apiKey: string): { headers: Record<string, string> } => ({
  headers: { authorization: `Bearer ${apiKey}` },
});

/** The Standard Webhooks verifier a receiver holding `secret` uses (raw UTF-8 bytes for a non-whsec secret). */
export function verifierFor(secret: string): Webhook {
  return secret.startsWith('whsec_')
    ? new Webhook(secret)
    : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

/** Whether the standardwebhooks library accepts the delivery with `secret`. */
export function verifies(secret: string, delivery: RecordedRequest): boolean {
  try {
    verifierFor(secret).verify(delivery.body, delivery.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

/** The X-Signature a receiver holding `secret` expects: hex HMAC-SHA256 keyed with the whole string's UTF-8 bytes. */
export function xSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body, 'utf8').digest('hex')}`;
}

/** The webhook-signature entries, in order. */
export function signatureEntries(delivery: RecordedRequest): string[] {
  return String(delivery.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter(Boolean);
}

/** The one `v1,…` entry `secret` makes for this delivery (computed here from the standard, for order checks). */
export function entryFor(secret: string, delivery: RecordedRequest): string {
  const key = secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
  const signed = `${String(delivery.headers['webhook-id'])}.${String(delivery.headers['webhook-timestamp'])}.${delivery.body}`;
  return `v1,${createHmac('sha256', key).update(signed, 'utf8').digest('base64')}`;
}

/**
 * Asserts a delivery is signed by exactly `signers` (newest first: one webhook-signature entry each, in that order,
 * X-Signature by the first) and by none of `strangers`, with the standardwebhooks library and by recomputation.
 */
export function expectSignedBy(delivery: RecordedRequest, signers: string[], strangers: string[] = []): void {
  expect(signatureEntries(delivery)).toEqual(signers.map((secret) => entryFor(secret, delivery)));
  for (const secret of signers)
    expect({ secret, verifies: verifies(secret, delivery) }).toEqual({ secret, verifies: true });
  expect(delivery.headers['x-signature']).toBe(xSignature(signers[0], delivery.body));
  for (const secret of strangers) {
    expect({ secret, verifies: verifies(secret, delivery) }).toEqual({ secret, verifies: false });
    expect(delivery.headers['x-signature']).not.toBe(xSignature(secret, delivery.body));
  }
}

/**
 * Every form a credential could be written in: the whole string (UTF-8 and UTF-16LE), its encoded body, its bytes,
 * and those bytes in hex (both cases) and in the other base64 alphabet.
 */
function credentialForms(
  whole: string,
  prefix: string,
  encoding: 'base64' | 'base64url',
): { name: string; bytes: Buffer }[] {
  const body = whole.slice(prefix.length);
  const raw = Buffer.from(body, encoding);
  const other = encoding === 'base64' ? 'base64url' : 'base64';
  return [
    { name: 'the whole string', bytes: Buffer.from(whole, 'utf8') },
    { name: 'the whole string (UTF-16LE)', bytes: Buffer.from(whole, 'utf16le') },
    { name: `its ${encoding} body`, bytes: Buffer.from(body, 'utf8') },
    { name: 'its bytes', bytes: raw },
    { name: 'its bytes in hex', bytes: Buffer.from(raw.toString('hex'), 'utf8') },
    { name: 'its bytes in HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase(), 'utf8') },
    { name: `its bytes in ${other}`, bytes: Buffer.from(raw.toString(other), 'utf8') },
  ];
}

/** Every form a `whsec_` signing secret could be written in: none may be found at rest or in a log. */
export const secretForms = (secret: string) => credentialForms(secret, 'whsec_', 'base64');

/** Every form an `rk_` API key could be written in. */
export const apiKeyForms = (apiKey: string) => credentialForms(apiKey, 'rk_', 'base64url');

/** Forms of a plain secret (an admin key, an encryption key in base64): the string, and for a base64 key its bytes. */
export function plainForms(secret: string, base64 = false): { name: string; bytes: Buffer }[] {
  const forms = [{ name: 'the string', bytes: Buffer.from(secret, 'utf8') }];
  if (base64) {
    const raw = Buffer.from(secret, 'base64');
    forms.push(
      { name: 'its bytes', bytes: raw },
      { name: 'its bytes in hex', bytes: Buffer.from(raw.toString('hex'), 'utf8') },
      { name: 'its bytes in base64url', bytes: Buffer.from(raw.toString('base64url'), 'utf8') },
    );
  }
  return forms;
}
