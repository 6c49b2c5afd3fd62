import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { hasProgram } from '../support/external';
import { eventually } from '../support/fake-server';
import { reviewBody, startRelay, type RunningRelay } from '../support/relay';

/**
 * The receivers in examples/, run as the docs say, against real deliveries from a relay: they must verify both
 * signatures (with a plain secret and with a `whsec_…` one), print the payload, answer 2xx so the job ends
 * `delivered`, say so once per webhook-id, and refuse a forged delivery.
 */
const root = path.resolve(__dirname, '../..');
const receivers: { name: string; command: string; script: string }[] = [
  { name: 'JavaScript', command: process.execPath, script: 'examples/receiver.js' },
];
if (hasProgram('python3', 'RELAY_REQUIRE_PYTHON'))
  receivers.push({ name: 'Python', command: 'python3', script: 'examples/receiver.py' });

class Receiver {
  output = '';
  url = '';
  private constructor(private readonly child: ChildProcess) {}

  static async start(command: string, script: string, secret: string): Promise<Receiver> {
    const child = spawn(command, [script], {
      cwd: root,
      env: { ...process.env, CALLBACK_HMAC_SECRET: secret, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const receiver = new Receiver(child);
    child.stdout.on('data', (chunk: Buffer) => (receiver.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (receiver.output += chunk.toString()));
    const port = await eventually(
      () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(receiver.output)?.[1],
      `${script} to listen`,
      20_000,
    );
    receiver.url = `http://127.0.0.1:${port}`;
    return receiver;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    await exited;
  }
}

describe.each(receivers)('the $name receiver in examples/', ({ command, script }) => {
  describe.each([
    ['a plain secret', 'a-plain-signing-secret-of-40-characters!'],
    ['a whsec_ secret', `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}`],
  ])('with %s', (_, secret) => {
    let relay: RunningRelay;
    let receiver: Receiver;

    beforeAll(async () => {
      relay = await startRelay({ CALLBACK_HMAC_SECRET: secret });
      receiver = await Receiver.start(command, script, secret);
    });

    afterAll(async () => {
      await receiver?.stop();
      await relay?.close();
    });

    it('verifies a real delivery, prints its payload once per webhook-id and acknowledges it', async () => {
      const posted = await relay.http
        .post('/v1/reviews')
        .send(reviewBody(`${receiver.url}/reviews/callback`))
        .expect(202);
      const jobId: string = posted.body.job_id;
      const webhookId = `msg_${jobId.slice('job_'.length)}`;
      await eventually(() => receiver.output.includes(`"job_id": "${jobId}"`), `the receiver to print ${jobId}`);
      expect(receiver.output).toContain(`verified delivery ${webhookId}:`);
      expect(receiver.output).toContain('"submission_id": "subm-001"');
      expect(receiver.output).toContain('"ok": true');
      await eventually(
        async () => (await relay.http.get(`/v1/reviews/${jobId}`)).body.status === 'delivered',
        'delivered',
      );

      // A redelivery carries the same webhook-id: the receiver acknowledges it without storing it twice.
      await relay.http.post(`/v1/reviews/${jobId}/redeliver`).expect(202);
      await eventually(() => receiver.output.includes(`duplicate ${webhookId}`), 'the duplicate to be noticed');
      await eventually(
        async () => (await relay.http.get(`/v1/reviews/${jobId}`)).body.status === 'delivered',
        'delivered again',
      );
      expect(receiver.output).not.toMatch(/refused/);
    });

    it('refuses a delivery whose body was altered, or that carries no signature', async () => {
      const headers = {
        'content-type': 'application/json',
        'webhook-id': 'msg_x',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,AAAA',
        'x-signature': 'sha256=00',
      };
      const forged = await fetch(`${receiver.url}/reviews/callback`, {
        method: 'POST',
        headers,
        body: '{"job_id":"job_forged","ok":true}',
      });
      expect(forged.status).toBe(400);
      const unsigned = await fetch(`${receiver.url}/reviews/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(unsigned.status).toBe(400);
      await eventually(() => (receiver.output.match(/refused/g) ?? []).length >= 2, 'both refusals on stderr');
      expect(receiver.output).not.toContain('job_forged');
    });
  });
});
