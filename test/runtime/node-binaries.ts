import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface NodeBinary {
  path: string;
  version: string;
  major: number;
}

function probe(binary: string): NodeBinary | undefined {
  try {
    const version = execFileSync(binary, ['-v'], { encoding: 'utf8', timeout: 10_000 }).trim();
    return { path: binary, version, major: Number(version.replace(/^v/, '').split('.')[0]) };
  } catch {
    return undefined;
  }
}

/**
 * Node binaries on this machine: the one running Jest, the ones `.ci/run` put in .tmp from the npm registry, and the
 * `node` of the usual system folders. The first that `wanted` accepts, or undefined.
 */
export function findNode(wanted: (node: NodeBinary) => boolean): NodeBinary | undefined {
  const tmp = path.join(root, '.tmp');
  const fromRegistry = fs.existsSync(tmp)
    ? fs
        .readdirSync(tmp)
        .filter((name) => /^node\d+$/.test(name))
        .sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)))
        .flatMap((name) => {
          const modules = path.join(tmp, name, 'node_modules');
          if (!fs.existsSync(modules)) return [];
          return fs
            .readdirSync(modules)
            .filter((pkg) => /^node-[a-z0-9]+-[a-z0-9]+$/.test(pkg))
            .map((pkg) => path.join(modules, pkg, 'bin', 'node'));
        })
    : [];
  const candidates = [process.execPath, ...fromRegistry, '/usr/bin/node', '/usr/local/bin/node'];
  for (const candidate of new Set(candidates)) {
    if (!fs.existsSync(candidate)) continue;
    const node = probe(candidate);
    if (node && wanted(node)) return node;
  }
  return undefined;
}
