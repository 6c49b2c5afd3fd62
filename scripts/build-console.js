#!/usr/bin/env node
// Copies the operator's console (console/, native ES modules, no bundler) and the ES-module builds of Preact, its
// hooks and htm into dist/console/, which the relay serves at /console. The browser loads them as they are: the one
// bare import (`from "preact"` in the hooks) is pointed at the copied file, since an import map would be an inline
// script, which the console's Content-Security-Policy forbids.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'console');
const out = path.join(root, 'dist/console');

const VENDOR = [
  { from: 'preact/dist/preact.mjs', to: 'preact.mjs' },
  { from: 'preact/hooks/dist/hooks.mjs', to: 'hooks.mjs', imports: { preact: './preact.mjs' } },
  { from: 'htm/dist/htm.mjs', to: 'htm.mjs' },
];

function vendorFile({ from, imports = {} }) {
  let text = fs.readFileSync(path.join(root, 'node_modules', from), 'utf8');
  for (const [bare, file] of Object.entries(imports)) {
    const pattern = new RegExp(`(from\\s*|import\\s*)(["'])${bare}\\2`, 'g');
    if (!pattern.test(text)) throw new Error(`${from}: no import of "${bare}" to rewrite (did the package change?)`);
    text = text.replace(pattern, `$1$2${file}$2`);
  }
  // No source maps are shipped: a browser would ask for them.
  return text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'vendor'), { recursive: true });
for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
  if (!entry.isFile() || /\.spec\.ts$/.test(entry.name)) continue;
  fs.copyFileSync(path.join(source, entry.name), path.join(out, entry.name));
}
for (const file of VENDOR) fs.writeFileSync(path.join(out, 'vendor', file.to), vendorFile(file));
process.stderr.write(`console written to ${path.relative(root, out)}\n`);
