import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { findNode } from './node-binaries';

/**
 * On a Node older than 22 (this machine's own Node is 20), `node dist/main.js` and `npm start` must stop at once with a
 * message naming the supported versions, before better-sqlite3 loads (on Node 20 it segfaults, exit 139).
 */
const old = findNode((candidate) => candidate.major < 22);
if (!old)
  process.stderr.write(
    'skipping the unsupported-Node test: no Node older than 22 on this machine (looked at /usr/bin/node, /usr/local/bin/node)\n',
  );
const root = path.resolve(__dirname, '../..');

(old ? describe : describe.skip)(`the relay on an unsupported Node (${old?.version ?? 'none found'})`, () => {
  const env = {
    ...process.env,
    PATH: `${path.dirname(old?.path ?? '')}:${process.env.PATH}`,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: 'sqlite:///:memory:',
  };
  const expectRefusal = (result: ReturnType<typeof spawnSync>) => {
    const output = `${result.stdout}${result.stderr}`;
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(output).toContain(
      `llm-relay needs Node.js 22 (22.22.3 or later), 24 (24.15.0 or later) or 26; this is Node.js ${old!.version}.`,
    );
    expect(output).toMatch(/npm install --prefix ~\/\.node26 node-[a-z]+-[a-z0-9]+@26/);
    expect(output).not.toMatch(/listening on|Nest/);
  };

  it('node dist/main.js stops at once, naming the versions it needs and how to get one', () => {
    const started = Date.now();
    const result = spawnSync(old!.path, [path.join(root, 'dist/main.js')], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expectRefusal(result);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('npm start does the same', () => {
    const result = spawnSync('npm', ['start', '--silent'], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
    expectRefusal(result);
  });
});
