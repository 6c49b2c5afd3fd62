#!/usr/bin/env node
// node scripts/bench/statements.js [--jobs 500] : SQL statements per job on the hot path, counted exactly.
// Runs a built relay (dist/, or BENCH_RELAY_ROOT's) in this process on a fresh SQLite file with its built-in simulated
// LLM and a loopback receiver, sends --jobs jobs through intake → forward → callback → delivery, and counts every
// statement TypeORM sends to better-sqlite3 meanwhile (the WAL checkpointer's own connection is not TypeORM's and is
// not counted). Prints statements per job, by kind. Deterministic, unlike timings: compare two builds with it.
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const args = Object.fromEntries(
  process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith('--') ? [[arg.slice(2), all[i + 1]]] : [])),
);
const JOBS = Number(args.jobs ?? 500);
const root = path.resolve(process.env.BENCH_RELAY_ROOT ?? path.join(__dirname, '../..'));
const counts = new Map();
let counting = false;

const { BetterSqlite3QueryRunner } = require(
  path.join(root, 'node_modules/typeorm/driver/better-sqlite3/BetterSqlite3QueryRunner.js'),
);
const query = BetterSqlite3QueryRunner.prototype.query;
BetterSqlite3QueryRunner.prototype.query = function counted(sql, ...rest) {
  if (counting) {
    const kind =
      /^\s*(WITH|SELECT|UPDATE|INSERT|DELETE|BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)/i
        .exec(sql)?.[1]
        ?.toUpperCase() ?? 'OTHER';
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return query.call(this, sql, ...rest);
};

async function main() {
  const { createRelayApp, listenAndRun } = require(path.join(root, 'dist/bootstrap.js'));
  const { loadConfig } = require(path.join(root, 'dist/config/config.js'));
  let delivered = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered += 1;
      res.end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-statements-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_URL: `sqlite:///${dir}/relay.db`,
    SIMULATION_DELAY_MS: '1',
    SCHEDULER_INTERVAL_MS: '60000',
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    INTAKE_RATE_LIMIT: '1000000',
  });
  const app = await createRelayApp(config);
  const port = await listenAndRun(app, 0, '127.0.0.1');
  const hook = `http://127.0.0.1:${receiver.address().port}/hook`;
  const post = (body) =>
    fetch(`http://127.0.0.1:${port}/v1/reviews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }).then((r) => r.status);
  // Settle the start-up work (first tick, expiry) before counting.
  await new Promise((resolve) => setTimeout(resolve, 500));
  counting = true;
  const body = JSON.stringify({
    submission_id: 'subm-1',
    file_refs: [{ url: 'https://files.example.com/1.pdf' }],
    webhook_url: hook,
  });
  for (let sent = 0; sent < JOBS; sent += 50) {
    const statuses = await Promise.all(Array.from({ length: Math.min(50, JOBS - sent) }, () => post(body)));
    if (statuses.some((status) => status !== 202))
      throw new Error(`intake answered ${statuses.find((s) => s !== 202)}`);
  }
  const deadline = Date.now() + 120_000;
  while (delivered < JOBS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  counting = false;
  await app.close();
  receiver.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (delivered < JOBS) throw new Error(`only ${delivered} of ${JOBS} delivered`);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const byKind = Object.fromEntries([...counts].sort().map(([kind, n]) => [kind, Number((n / JOBS).toFixed(2))]));
  console.log(JSON.stringify({ root, jobs: JOBS, statementsPerJob: Number((total / JOBS).toFixed(2)), byKind }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
