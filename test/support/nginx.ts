import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { eventually, freePort } from './fake-server';

const CONFIG = path.resolve(__dirname, '../../deploy/nginx.conf');
/** The upstream's `server` lines of deploy/nginx.conf: host, port and parameters (max_fails, …). */
export const UPSTREAM_SERVER = /^\s*server\s+([\w.-]+):(\d+)([^;]*);\s*$/gm;

export interface NginxOptions {
  /** host:port of each replica, in place of the upstream's server lines. */
  upstreams: string[];
  httpPort: number;
  httpsPort: number;
  /** In place of each server line's fail_timeout, so a test need not wait 10 s for nginx to try a failed replica again. */
  failTimeout?: string;
}

export interface NginxAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * Debian's nginx on loopback with the project's deploy/nginx.conf, rewritten only where a test must: ports, pid, logs,
 * certificate paths and the upstream's addresses (their parameters are kept). It also adds one response header,
 * X-Upstream-Addr ($upstream_addr), so a test can tell which replica answered. `dir` must be world-readable: nginx
 * workers run unprivileged and spool large bodies under it (start() makes it so).
 */
export class NginxProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly httpPort: number,
    readonly httpsPort: number,
  ) {}

  static async start(dir: string, upstreams: string[], options: Partial<NginxOptions> = {}): Promise<NginxProcess> {
    const settings = { httpPort: await freePort(), httpsPort: await freePort(), ...options, upstreams };
    fs.chmodSync(dir, 0o755);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${dir}/relay.key`,
        '-out',
        `${dir}/relay.crt`,
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    fs.writeFileSync(`${dir}/nginx.conf`, rewriteConfig(fs.readFileSync(CONFIG, 'utf8'), dir, settings));
    const { httpPort, httpsPort } = settings;
    execFileSync('nginx', ['-t', '-q', '-p', dir, '-e', `${dir}/startup.log`, '-c', `${dir}/nginx.conf`]);
    const child = spawn(
      'nginx',
      ['-p', dir, '-e', `${dir}/startup.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'],
      { stdio: 'ignore' },
    );
    const nginx = new NginxProcess(child, dir, httpPort, httpsPort);
    await eventually(
      async () => (await nginx.request('GET', '/health/live').catch(() => null))?.status === 200,
      'nginx up',
    );
    return nginx;
  }

  get origin(): string {
    return `https://127.0.0.1:${this.httpsPort}`;
  }

  /** nginx's error log (connect failures to upstreams land here). */
  errorLog(): string {
    return fs.readFileSync(`${this.dir}/relay-error.log`, 'utf8');
  }

  request(
    method: string,
    pathname: string,
    body?: string,
    headers: Record<string, string> = {},
    localAddress?: string,
  ): Promise<NginxAnswer> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: this.httpsPort,
          method,
          path: pathname,
          rejectUnauthorized: false,
          localAddress,
          headers: { 'content-type': 'application/json', ...headers },
          signal: AbortSignal.timeout(15_000),
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGQUIT');
    await exited;
  }
}

function rewriteConfig(
  config: string,
  dir: string,
  { upstreams, httpPort, httpsPort, failTimeout }: NginxOptions,
): string {
  const servers = [...config.matchAll(UPSTREAM_SERVER)];
  if (servers.length === 0) throw new Error('deploy/nginx.conf: no upstream server lines found');
  const parameters = failTimeout
    ? servers[0][3].replace(/fail_timeout=\S+/, `fail_timeout=${failTimeout}`)
    : servers[0][3];
  const lines = upstreams.map((address) => `    server ${address}${parameters};`).join('\n');
  let first = true;
  return config
    .replace(UPSTREAM_SERVER, () => (first ? ((first = false), `${lines}\n`) : ''))
    .replace('pid /run/nginx-relay.pid;', `pid ${dir}/nginx.pid;`)
    .replace(/\/var\/log\/nginx\//g, `${dir}/`)
    .replace(/\/etc\/nginx\/tls\//g, `${dir}/`)
    .replace('listen 80;', `listen 127.0.0.1:${httpPort};`)
    .replace('listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`)
    .replace('proxy_buffering on;', 'proxy_buffering on;\n    add_header X-Upstream-Addr $upstream_addr always;')
    .replace('http {', `http {\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;`);
}
