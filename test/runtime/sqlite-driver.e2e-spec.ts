import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * better-sqlite3 13 ships Node-API prebuilds, one file for every supported Node. npm would still run its implicit
 * `node-gyp rebuild` (which needs Python and make, absent from the slim image) unless allowScripts denies it; the
 * prebuild then loads as it is, so nothing is compiled anywhere and one node_modules serves Node 22, 24 and 26.
 */
const root = path.resolve(__dirname, '../..');

describe('the SQLite driver', () => {
  it('installs without its implicit node-gyp build', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.dependencies['better-sqlite3']).toMatch(/^\^13\./);
    expect(pkg.allowScripts['better-sqlite3']).toBe(false);
  });

  it('loads the Node-API prebuild shipped in the package, on the Node running the tests', () => {
    const script = `
      const Database = require('better-sqlite3');
      const version = new Database(':memory:').prepare('select sqlite_version() as v').get().v;
      const binary = Object.keys(require.cache).find((file) => file.endsWith('.node'));
      console.log(JSON.stringify({ version, binary }));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }));
    expect(loaded.version).toMatch(/^3\.\d+\.\d+$/);
    expect(path.relative(root, loaded.binary)).toMatch(
      /^node_modules\/better-sqlite3\/prebuilds\/[a-z0-9]+-[a-z0-9]+\.node$/,
    );
  });
});
