import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { eventually } from '../support/fake-server';
import { useLoopbackStack } from '../support/loopback-stack';
import { hasProgram } from '../support/external';
import { NginxProcess } from '../support/nginx';
import { tempDir } from '../support/relay';
import { type RelayProcess } from '../support/relay-process';

const root = path.resolve(__dirname, '../..');

describe('Dockerfile', () => {
  const text = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const dockerfile = DockerfileParser.parse(text);
  const stages = dockerfile.getFROMs();
  const runtimeStart = stages[stages.length - 1].getRange().start.line;
  const inRuntime = (keyword: string) =>
    dockerfile.getInstructions().filter((i) => i.getKeyword() === keyword && i.getRange().start.line >= runtimeStart);
  const inBuild = (keyword: string) =>
    dockerfile.getInstructions().filter((i) => i.getKeyword() === keyword && i.getRange().start.line < runtimeStart);

  it('passes dockerfile-utils lint', () => {
    const output = execFileSync(path.join(root, 'node_modules/.bin/dockerfile-utils'), [
      'lint',
      path.join(root, 'Dockerfile'),
    ]).toString();
    expect(output.trim()).toBe('');
  });

  it('is multi-stage on one Debian base with the Node LTS of .nvmrc, which CI tests and engines admits', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const images = stages.map((stage) => `${stage.getImageName()}:${stage.getImageTag()}`);
    expect(new Set(images).size).toBe(1);
    expect(stages[0].getImageName()).toBe('node');
    const [major, minor] = (stages[0].getImageTag() ?? '').split(/[.-]/).map(Number);
    const lts = Number(fs.readFileSync(path.join(root, '.nvmrc'), 'utf8').trim());
    expect(major).toBe(lts);
    // Node 20 reached end of life in April 2026, and better-sqlite3 13 does not run on it. The image runs Node 24 or 26.
    expect(major).toBeGreaterThanOrEqual(24);
    expect(major % 2).toBe(0);
    const engines: string = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node;
    const admitted = [...engines.matchAll(/\^(\d+)\.(\d+)\.\d+/g)].find(([, m]) => Number(m) === major);
    expect(admitted).toBeDefined();
    expect(minor).toBeGreaterThanOrEqual(Number(admitted![2]));
    expect(images[0]).toMatch(/bookworm|trixie/);
  });

  it('installs (better-sqlite3 13 ships prebuilds: no compiler) and prunes dev dependencies in the build stage only', () => {
    const buildRuns = inBuild('RUN')
      .map((i) => i.getTextContent())
      .join('\n');
    expect(buildRuns).toMatch(/npm ci\b/);
    expect(buildRuns).not.toMatch(/g\+\+|node-gyp/);
    expect(buildRuns).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(
      inRuntime('RUN')
        .map((i) => i.getTextContent())
        .join('\n'),
    ).not.toMatch(/g\+\+|npm ci/);
  });

  it('runs as a non-root user under tini with an exec-form CMD, a health check and a data volume', () => {
    const user = inRuntime('USER').map((i) => i.getTextContent());
    expect(user.length).toBe(1);
    expect(user[0]).not.toMatch(/\broot\b|\b0\b/);
    expect(inRuntime('ENTRYPOINT')[0].getTextContent()).toMatch(/^ENTRYPOINT \[".*tini", "--"\]$/);
    expect(inRuntime('CMD')[0].getTextContent()).toBe('CMD ["node", "dist/main.js"]');
    expect(inRuntime('HEALTHCHECK')[0].getTextContent()).toContain('/health/live');
    const volume = inRuntime('VOLUME')[0].getTextContent();
    expect(volume).toContain('/data');
    expect(
      inRuntime('ENV')
        .map((i) => i.getTextContent())
        .join('\n'),
    ).toContain('DATABASE_URL=sqlite:////data/');
  });

  it('builds the console into dist/ (which the runtime stage copies): console/ and its build script reach the build', () => {
    const copied = inBuild('COPY').flatMap((copy) =>
      copy
        .getArguments()
        .slice(0, -1)
        .map((a) => a.getValue()),
    );
    expect(copied).toEqual(expect.arrayContaining(['console', 'scripts/build-console.js']));
    expect(
      inBuild('RUN')
        .map((i) => i.getTextContent())
        .join('\n'),
    ).toMatch(/npm run build/);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.build).toContain(
      'scripts/build-console.js',
    );
    const ignored = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).not.toContain('console');
    // `scripts` is ignored as a whole; the build script is let back in, after that line.
    expect(ignored.indexOf('!scripts/build-console.js')).toBeGreaterThan(ignored.indexOf('scripts'));
    expect(
      inRuntime('COPY')
        .map((i) => i.getTextContent())
        .join('\n'),
    ).toMatch(/\/app\/dist \.\/dist/);
  });

  it('copies only what exists, and .dockerignore keeps local state out', () => {
    for (const copy of inBuild('COPY')) {
      for (const source of copy
        .getArguments()
        .slice(0, -1)
        .map((a) => a.getValue())) {
        expect(fs.existsSync(path.join(root, source))).toBe(true);
      }
    }
    const ignored = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '*.db', '.env']));
  });
});

const withNginx = hasProgram('nginx', 'RELAY_REQUIRE_NGINX') && hasProgram('openssl', 'RELAY_REQUIRE_NGINX');

(withNginx ? describe : describe.skip)('deploy/nginx.conf in front of the relay (real nginx)', () => {
  const dir = tempDir('relay-nginx-');
  // The built relay as a process, with the built-in simulated LLM, behind nginx.
  const stack = useLoopbackStack({ llm: false, relay: false });
  let nginx: NginxProcess;
  let relay: RelayProcess;

  beforeAll(async () => {
    relay = await stack.startProcess({ DATABASE_URL: `sqlite:///${dir}/relay.db`, LOG_LEVEL: 'info' });
    nginx = await NginxProcess.start(dir, [`127.0.0.1:${new URL(relay.url).port}`]);
  });

  afterAll(async () => {
    await nginx?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const request = (
    method: string,
    pathname: string,
    body?: string,
    headers: Record<string, string> = {},
    localAddress?: string,
  ) => nginx.request(method, pathname, body, headers, localAddress);

  it('carries a job through TLS, with the request id and the client address seen through one hop', async () => {
    const body = JSON.stringify({
      submission_id: 'via-nginx',
      file_refs: [{ url: 'https://files.example.com/1.pdf' }],
      webhook_url: stack.hook,
    });
    const posted = await request('POST', '/v1/reviews', body, {
      'x-request-id': 'trace-nginx-1',
      'x-forwarded-for': '6.6.6.6',
    });
    expect(posted.status).toBe(202);
    expect(posted.headers['x-request-id']).toBe('trace-nginx-1');
    const jobId = JSON.parse(posted.text).job_id;
    await eventually(() => stack.web.for(jobId)[0], 'the delivery');
    const job = await eventually(async () => {
      const answer = JSON.parse((await request('GET', `/v1/reviews/${jobId}`)).text);
      return answer.status === 'delivered' && answer;
    }, 'delivered');
    expect(job.submission_id).toBe('via-nginx');
    const line = relay.output.split('\n').find((l) => l.includes('trace-nginx-1') && l.includes('"client_ip"'));
    expect(line).toContain('"client_ip":"127.0.0.1"');
    expect(relay.output).not.toContain('6.6.6.6');
  });

  it('enforces the body limits of the app at the edge', async () => {
    const big = JSON.stringify({ submission_id: 'x', metadata: { blob: 'x'.repeat(300 * 1024) } });
    expect((await request('POST', '/v1/reviews', big)).status).toBe(413);
    const callback = JSON.stringify({ ok: true, result: 'x'.repeat(300 * 1024) });
    expect((await request('POST', '/v1/llm/callback/job_unknown?token=x', callback)).status).toBe(404);
  });

  it('serves the console and its files, with their Content-Security-Policy and a redirect that stays relative', async () => {
    const redirect = await request('GET', '/console');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('console/');
    for (const pathname of ['/console/', '/console/app.js', '/console/console.css', '/console/vendor/preact.mjs']) {
      const answer = await request('GET', pathname);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-security-policy']).toContain("script-src 'self';");
    }
    expect((await request('GET', '/v1/reviews/summary')).status).toBe(200);
  });

  it('serves /metrics to allowed addresses only, and redirects plain HTTP', async () => {
    expect((await request('GET', '/metrics')).status).toBe(200);
    expect((await request('GET', '/metrics', undefined, {}, '127.0.0.2')).status).toBe(403);
    const plain = await new Promise<http.IncomingMessage>((resolve) =>
      http.get({ host: '127.0.0.1', port: nginx.httpPort, path: '/v1/reviews' }, resolve),
    );
    expect(plain.statusCode).toBe(301);
    expect(plain.headers.location).toMatch(/^https:\/\//);
  });
});
