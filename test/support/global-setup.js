// End-to-end tests that run the relay as a real process (kill -9) need dist/: build it when it is missing or stale,
// and write its OpenAPI document, which every in-process answer of the suite is checked against.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

module.exports = async () => {
  const root = path.resolve(__dirname, '../..');
  const main = path.join(root, 'dist/main.js');
  if (!fs.existsSync(main) || fs.statSync(main).mtimeMs < newestMtime(path.join(root, 'src'))) {
    execSync('npm run build', { cwd: root, stdio: 'inherit' });
  }
  // The OpenAPI document every in-process answer is checked against (test/support/openapi-check.ts).
  const openapi = path.join(root, '.tmp/openapi.json');
  if (!fs.existsSync(openapi) || fs.statSync(openapi).mtimeMs < fs.statSync(main).mtimeMs) {
    fs.mkdirSync(path.dirname(openapi), { recursive: true });
    execSync(`node scripts/openapi.js ${JSON.stringify(openapi)}`, { cwd: root, stdio: 'inherit' });
  }
};
