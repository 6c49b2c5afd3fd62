import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../src/database/database-outage';
import { hasProgram } from '../support/external';
import { PrivatePostgres, privatePostgresAvailable } from '../support/private-postgres';
import { holdExpectedConsoleNoise, queryFailed } from '../support/console-noise';
import { useLoopbackStack } from '../support/loopback-stack';
import { tempDir } from '../support/relay';

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=relay-test-ca',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  // The server refuses a key others can read, and runs as postgres when the test runs as root.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'server.key'), 0o600);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', path.join(dir, 'server.key')]);
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
}

(privatePostgresAvailable() && hasProgram('openssl', 'RELAY_REQUIRE_POSTGRES') ? describe : describe.skip)(
  'PostgreSQL connection settings: TLS through sslmode, statement_timeout (a private cluster)',
  () => {
    const certDir = tempDir('relay-pg-tls-');
    let pg: PrivatePostgres;
    // The built-in simulated LLM; the test starts the relay once the cluster is up.
    const stack = useLoopbackStack({ llm: false, relay: false });

    beforeAll(async () => {
      const { cert, key } = makeCertificates(certDir);
      pg = await PrivatePostgres.create({ ssl: 'on', ssl_cert_file: `'${cert}'`, ssl_key_file: `'${key}'` });
    }, 60_000);

    // After the stack's own afterAll has closed the relay.
    afterAll(async () => {
      await pg?.destroy();
      fs.rmSync(certDir, { recursive: true, force: true });
    });

    it('connects with sslmode=verify-full against the given CA and sets statement_timeout on its connections', async () => {
      const url = `${pg.url()}?sslmode=verify-full&sslrootcert=${encodeURIComponent(path.join(certDir, 'ca.pem'))}`;
      // The simulated LLM would call back while the test closes the relay: keep it quiet for the test's length.
      const relay = await stack.start({
        DATABASE_URL: url,
        DATABASE_STATEMENT_TIMEOUT_MS: '1500',
        SIMULATION_DELAY_MS: '600000',
      });
      await relay.http.get('/health/ready').expect(200);
      const db = relay.app.get(DataSource);
      const [own] = await db.query(
        `SELECT s.ssl, a.application_name, current_setting('statement_timeout') AS timeout
           FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE s.pid = pg_backend_pid()`,
      );
      expect(own).toEqual({ ssl: true, application_name: 'llm-relay', timeout: '1500ms' });
      // A statement past the timeout is cancelled by the server, and counts as "database unavailable" (503).
      // TypeORM prints the failed statement and its error: expected here, so held back (any other line still shows).
      const restoreConsole = holdExpectedConsoleNoise(queryFailed(/canceling statement due to statement timeout/));
      const cancelled: unknown = await db
        .query('SELECT pg_sleep(3)')
        .catch((error: unknown) => error)
        .finally(restoreConsole);
      expect(cancelled).toMatchObject({ driverError: expect.objectContaining({ code: '57014' }) });
      expect(isDatabaseUnavailable(cancelled)).toBe(true);
      // Intake stores over the encrypted connections.
      const stored = await relay.http
        .post('/v1/reviews')
        .send({
          submission_id: 's',
          file_refs: [{ url: 'https://files.example.com/1.pdf' }],
          webhook_url: 'http://127.0.0.1:9/hook',
        })
        .expect(202);
      expect((await relay.http.get(`/v1/reviews/${stored.body.job_id}`).expect(200)).body.submission_id).toBe('s');
    }, 60_000);
  },
);
