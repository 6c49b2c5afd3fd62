// End-to-end tests that run the relay as a real process (kill -9) need dist/, and the console's tests its dist/console:
// build both when missing or stale,
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

/** Runs `command`, showing its output only if it fails (a passing run stays quiet). */
function quietly(command, cwd) {
  try {
    execSync(command, { cwd, stdio: 'pipe' });
  } catch (error) {
    process.stderr.write(`${command} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    throw error;
  }
}

module.exports = async () => {
  const root = path.resolve(__dirname, '../..');
  const main = path.join(root, 'dist/main.js');
  const sources = Math.max(newestMtime(path.join(root, 'src')), newestMtime(path.join(root, 'console')));
  if (
    !fs.existsSync(main) ||
    !fs.existsSync(path.join(root, 'dist/console/index.html')) ||
    fs.statSync(main).mtimeMs < sources
  ) {
    quietly('npm run build', root);
  }
  // The OpenAPI document every in-process answer is checked against (test/support/openapi-check.ts).
  const openapi = path.join(root, '.tmp/openapi.json');
  if (!fs.existsSync(openapi) || fs.statSync(openapi).mtimeMs < fs.statSync(main).mtimeMs) {
    fs.mkdirSync(path.dirname(openapi), { recursive: true });
    quietly(`node scripts/openapi.js ${JSON.stringify(openapi)}`, root);
  }
};
