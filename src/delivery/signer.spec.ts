import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signDelivery, webhookIdFor } from './signer';

describe('signDelivery', () => {
  const body = '{"job_id":"job_1","submission_id":"s","ok":true,"result":{"score":1}}';
  const timestamp = Math.floor(Date.now() / 1000);

  it('produces the seed X-Signature: sha256=<hex HMAC of the raw body>', () => {
    const headers = signDelivery(['dev-secret'], 'msg_1', timestamp, body);
    const expected = createHmac('sha256', 'dev-secret').update(body).digest('hex');
    expect(headers['x-signature']).toBe(`sha256=${expected}`);
  });

  it('matches a known Standard Webhooks vector', () => {
    // From the Standard Webhooks specification's reference tests.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const headers = signDelivery([secret], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it.each(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'dev-secret'])(
    'is verified by the standardwebhooks library (%s)',
    (secret) => {
      const headers = signDelivery([secret], 'msg_abc', timestamp, body);
      const verifier = secret.startsWith('whsec_')
        ? new Webhook(secret)
        : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
      expect(verifier.verify(body, headers as unknown as Record<string, string>)).toEqual(JSON.parse(body));
      expect(() =>
        verifier.verify(body.replace('true', 'false'), headers as unknown as Record<string, string>),
      ).toThrow();
    },
  );

  it('signs with every secret, newest first, and X-Signature with the newest alone', () => {
    const newer = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    const older = 'whsec_' + Buffer.alloc(32, 2).toString('base64');
    const other = 'whsec_' + Buffer.alloc(32, 3).toString('base64');
    const headers = signDelivery([newer, older], 'msg_abc', timestamp, body) as unknown as Record<string, string>;
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature'].split(' ')[0]).toBe(
      signDelivery([newer], 'msg_abc', timestamp, body)['webhook-signature'],
    );
    expect(new Webhook(newer).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(older).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
    expect(headers['x-signature']).toBe(`sha256=${createHmac('sha256', newer).update(body).digest('hex')}`);
    expect(() => signDelivery([], 'msg_abc', timestamp, body)).toThrow();
  });

  it('derives a webhook-id stable for a job', () => {
    expect(webhookIdFor('job_abc')).toBe('msg_abc');
    expect(webhookIdFor('job_abc')).toBe(webhookIdFor('job_abc'));
  });
});
