// node scripts/bench/change-seq-cost.js: what the changes feed adds to each status write on SQLite. The same INSERT
// and three status UPDATEs of a job, with and without change_seq and its index, interleaved, on WAL files.
const Database = require('better-sqlite3');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
function setup(withFeed) {
  const file = path.join(os.tmpdir(), `relay-change-seq-${withFeed}.sqlite`);
  for (const f of [file, file + '-wal', file + '-shm']) fs.rmSync(f, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE jobs (id varchar PRIMARY KEY, status varchar, payload text, next_attempt_at bigint, created_at bigint, updated_at bigint, change_seq bigint NOT NULL DEFAULT 0, lease_token varchar, lease_expires_at bigint);
    CREATE INDEX idx_jobs_due ON jobs (status, next_attempt_at); CREATE INDEX idx_created ON jobs (created_at, id); CREATE INDEX idx_sc ON jobs (status, created_at, id);`);
  if (withFeed) db.exec('CREATE INDEX idx_jobs_change ON jobs (change_seq, id)');
  const seq = withFeed
    ? ", (SELECT MAX(COALESCE(MAX(change_seq), 0) + 1, CAST(unixepoch('subsec') * 1000 AS INTEGER)) FROM jobs)"
    : '';
  const ins = db.prepare(
    `INSERT INTO jobs (id, status, payload, next_attempt_at, created_at, updated_at${withFeed ? ', change_seq' : ''}) VALUES (?, 'queued', ?, 1, 1, 1${seq})`,
  );
  const upd = db.prepare(
    `UPDATE jobs SET status = ?, updated_at = 2${withFeed ? ', change_seq = ' + seq.slice(2) : ''} WHERE id = ? AND status = ?`,
  );
  return { db, ins, upd };
}
const variants = { base: setup(false), feed: setup(true) };
const payload = JSON.stringify({ a: 'x'.repeat(300) });
const times = { base: [], feed: [] };
let n = 0;
for (let round = 0; round < 6; round++) {
  for (const name of ['base', 'feed']) {
    const { ins, upd } = variants[name];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 5000; i++) {
      const id = `job_${name}_${n++}`;
      ins.run(id, payload);
      upd.run('processing', id, 'queued');
      upd.run('delivering', id, 'processing');
      upd.run('delivered', id, 'delivering');
    }
    times[name].push((Number(process.hrtime.bigint() - t0) / 1e6 / 5000) * 1000);
  }
}
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log('µs per job (1 insert + 3 status updates), median of 6 rounds of 5000:', {
  base: med(times.base).toFixed(1),
  feed: med(times.feed).toFixed(1),
});
