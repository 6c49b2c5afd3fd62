import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './fake-server';

const run = promisify(execFile);

/** Where initdb and pg_ctl live: RELAY_TEST_PG_BIN, Debian's /usr/lib/postgresql/<newest>/bin, or the PATH. */
function findBinDir(): string | null {
  const candidates = [process.env.RELAY_TEST_PG_BIN];
  try {
    const versions = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => `/usr/lib/postgresql/${version}/bin`));
  } catch {
    // not Debian's layout
  }
  try {
    candidates.push(path.dirname(execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim()));
  } catch {
    // not on the PATH either
  }
  return (
    candidates.find(
      (dir) => dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')),
    ) ?? null
  );
}

/**
 * Tests that stop and start PostgreSQL need a cluster of their own (the shared server on :5432 serves other suites).
 * Without the binaries they skip, saying so; RELAY_REQUIRE_POSTGRES=1 (CI) makes that a failure.
 */
export function privatePostgresAvailable(): boolean {
  if (findBinDir()) return true;
  const message =
    'PostgreSQL server binaries (initdb, pg_ctl) are not installed; set RELAY_TEST_PG_BIN to their folder';
  if (process.env.RELAY_REQUIRE_POSTGRES === '1') throw new Error(`${message} (required: RELAY_REQUIRE_POSTGRES=1)`);
  process.stderr.write(
    `skipping tests that restart a private PostgreSQL: ${message} (CI sets RELAY_REQUIRE_POSTGRES=1)\n`,
  );
  return false;
}

/**
 * A throwaway PostgreSQL cluster in a temp folder on a free loopback port, owned by the `postgres` OS user when the
 * test runs as root (initdb refuses root). Fast and unsafe on purpose: fsync off, trust authentication.
 */
export class PrivatePostgres {
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string | null,
  ) {}

  static async create(settings: Record<string, string> = {}): Promise<PrivatePostgres> {
    const bin = findBinDir();
    if (!bin) throw new Error('PostgreSQL server binaries not found');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-pg-'));
    const asUser = process.getuid?.() === 0 ? 'postgres' : null;
    if (asUser) execFileSync('chown', [asUser, dir]);
    const cluster = new PrivatePostgres(bin, dir, await freePort(), asUser);
    await cluster.pg('initdb', ['-D', cluster.data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    const conf = {
      port: String(cluster.port),
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: `'${dir}'`,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '100',
      ...settings,
    };
    fs.appendFileSync(
      path.join(cluster.data, 'postgresql.conf'),
      Object.entries(conf)
        .map(([k, v]) => `${k} = ${v}\n`)
        .join(''),
    );
    await cluster.start();
    return cluster;
  }

  get data(): string {
    return path.join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.data, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
  }

  /** `pg_ctl stop -m fast`: sessions are cut off (clients see "terminating connection due to administrator command"). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  /** Stops the server if it runs and deletes the cluster. */
  async destroy(): Promise<void> {
    if (fs.existsSync(path.join(this.data, 'postmaster.pid'))) await this.stop('immediate').catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async pg(program: string, args: string[]): Promise<void> {
    const file = path.join(this.bin, program);
    const [command, commandArgs] = this.asUser ? ['runuser', ['-u', this.asUser, '--', file, ...args]] : [file, args];
    try {
      await run(command, commandArgs, { cwd: this.dir, timeout: 60_000 });
    } catch (error) {
      const log = path.join(this.dir, 'server.log');
      const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : '';
      throw new Error(`${program} failed: ${(error as Error).message}\n${tail}`, { cause: error });
    }
  }
}
