// End-to-end tests that run the relay as a real process (kill -9) need dist/: build it when it is missing or stale.
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
  if (fs.existsSync(main) && fs.statSync(main).mtimeMs >= newestMtime(path.join(root, 'src'))) return;
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
};
