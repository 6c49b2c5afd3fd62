/**
 * The Node.js releases the relay supports, kept equal to `engines` in package.json (a unit test checks). better-sqlite3 13
 * segfaults on Node 20, and Node 20 is past its end of life, so an older Node must stop before anything native loads.
 */
export const SUPPORTED_NODE: readonly { major: number; minor: number; patch: number }[] = [
  { major: 22, minor: 22, patch: 3 },
  { major: 24, minor: 15, patch: 0 },
  { major: 26, minor: 0, patch: 0 },
];

/** The `engines.node` range that SUPPORTED_NODE spells. */
export function supportedNodeRange(): string {
  return SUPPORTED_NODE.map(({ major, minor, patch }) => `^${major}.${minor}.${patch}`).join(' || ');
}

/** The npm registry's package holding the Node binary for this platform (what `.ci/run` installs too). */
export function nodePackageFor(platform: string = process.platform, arch: string = process.arch): string {
  return `node-${platform === 'win32' ? 'win' : platform}-${arch}`;
}

/** Undefined if `version` (e.g. `process.versions.node`, "22.23.5") is supported; otherwise the message to stop with. */
export function unsupportedNodeMessage(version: string, nodePackage: string = nodePackageFor()): string | undefined {
  const [major, minor, patch] = version.replace(/^v/, '').split('.').map(Number);
  const supported = SUPPORTED_NODE.some(
    (floor) => major === floor.major && (minor > floor.minor || (minor === floor.minor && patch >= floor.patch)),
  );
  if (supported) return undefined;
  const names = SUPPORTED_NODE.map(({ major: m, minor: n, patch: p }) =>
    n || p ? `${m} (${m}.${n}.${p} or later)` : `${m}`,
  );
  const newest = SUPPORTED_NODE[SUPPORTED_NODE.length - 1].major;
  return [
    `llm-relay needs Node.js ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}; this is Node.js v${version.replace(/^v/, '')}.`,
    'Get one with npm alone (the registry ships Node as a package), then run the same command again:',
    `  npm install --prefix ~/.node${newest} ${nodePackage}@${newest}`,
    `  export PATH="$HOME/.node${newest}/node_modules/${nodePackage}/bin:$PATH"`,
  ].join('\n');
}
