#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by package (or project folder) and the hottest
// functions. node scripts/bench/profile-summary.js <file.cpuprofile> [--top 25]
const fs = require('node:fs');

const file = process.argv[2];
const topAt = process.argv.indexOf('--top');
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMs = new Map();
for (let i = 0; i < profile.samples.length; i += 1) {
  const id = profile.samples[i];
  selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
}

function bucket(url, name) {
  if (!url) return name === '(idle)' || name === '(program)' || name === '(garbage collector)' ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/dist\/([^/]+)/.exec(url);
  return own ? `relay: ${own[1]}` : url;
}

const byBucket = new Map();
const byFunction = new Map();
let total = 0;
for (const [id, ms] of selfMs) {
  const { callFrame } = byId.get(id);
  const name = bucket(callFrame.url, callFrame.functionName);
  byBucket.set(name, (byBucket.get(name) ?? 0) + ms);
  const fn = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  total += ms;
}
const print = (title, map) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `${((ms / total) * 100).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(7)} ms  ${name}\n`,
    );
  }
};
process.stdout.write(`${file}: ${(total / 1000).toFixed(1)} s sampled\n`);
print('self time by package', byBucket);
print('hottest functions (self time)', byFunction);
