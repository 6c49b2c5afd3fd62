#!/usr/bin/env node
// node scripts/bench/wal-checkpoint.js [auto|off]
// How long single-row commits take on a 200 MB SQLite file in WAL mode (synchronous=NORMAL, as the relay runs it)
// with SQLite's automatic checkpoint (`auto`, the default) and without it (`off`: what the relay's connection sees
// now that a worker thread checkpoints). Prints p50, p99, the maximum and how many commits took over 20 ms.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Database = require('better-sqlite3');

const mode = process.argv[2] ?? 'auto';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-wal-'));
const db = new Database(path.join(dir, 'bench.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT, y INTEGER); CREATE INDEX iy ON t (y)');
const insert = db.prepare('INSERT INTO t (x, y) VALUES (?, ?)');
db.transaction(() => {
  for (let i = 0; i < 600_000; i += 1) insert.run('x'.repeat(300), i);
})();
db.pragma('wal_checkpoint(TRUNCATE)');
if (mode === 'off') db.pragma('wal_autocheckpoint = 0');
const update = db.prepare('UPDATE t SET y = y + 1 WHERE id = ?');
const times = [];
for (let i = 0; i < 20_000; i += 1) {
  const started = performance.now();
  update.run(1 + Math.floor(Math.random() * 600_000));
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const at = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(3);
process.stdout.write(
  `${mode}: ${(fs.statSync(path.join(dir, 'bench.db')).size / 1e6).toFixed(0)} MB file, 20,000 commits: p50 ${at(0.5)} ms, ` +
    `p99 ${at(0.99)} ms, max ${times.at(-1).toFixed(1)} ms, over 20 ms: ${times.filter((t) => t > 20).length}\n`,
);
db.close();
fs.rmSync(dir, { recursive: true, force: true });
