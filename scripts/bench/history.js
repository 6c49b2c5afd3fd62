#!/usr/bin/env node
// npm run bench:history [-- --history 1000000 --due 10000 --repeat 5 --no-retention --span-hours 8760]
// The relay on a large history: a fresh database (SQLite, or PostgreSQL when DATABASE_URL names a server) filled
// with --history finished jobs over the past year (two attempts each) and --due queued jobs due now, which flow
// through the peers (an LLM calling back, a receiver) while the reads run. For each read: its time (median of
// --repeat) and how long it held the process, seen from outside: the slowest answer to GET /health/live polled
// every 10 ms meanwhile, and, where the relay exports it, prom-client's nodejs_eventloop_lag_max_seconds. Then, unless
// --no-retention, a retention sweep (JOB_RETENTION_DAYS=30) over the same history, with the same probe.
// BENCH_RELAY_ROOT runs another checkout's build (the reads it lacks are left out), as in `npm run bench`.
const { API_KEY, freshDatabase, startPeers, startRelay } = require('./processes');
const { fillHistory } = require('./history-fill');
const { percentile, run, saveResults, table } = require('./report');

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .flatMap((arg, i, all) =>
      arg.startsWith('--') ? [[arg.slice(2), all[i + 1]?.startsWith('--') ? 'true' : (all[i + 1] ?? 'true')]] : [],
    ),
);
const HISTORY = Number(args.history ?? 1_000_000);
const DUE = Number(args.due ?? 10_000);
const REPEAT = Number(args.repeat ?? 5);
const RETENTION = !('no-retention' in args);
// By default the history spans the past year up to a day ago; --span-hours H puts it in the last H hours instead
// (--span-hours 1: the worst case of GET /v1/reviews/summary, which reads the last hour's attempts).
const SPAN_MS = 'span-hours' in args ? Number(args['span-hours']) * 3_600_000 : null;
const DAY = 86_400_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const headers = { 'x-api-key': API_KEY };

async function fill(database, receiverUrl) {
  const started = Date.now();
  const [fromMs, spanMs] = SPAN_MS === null ? [Date.now() - 365 * DAY, 364 * DAY] : [Date.now() - SPAN_MS, SPAN_MS];
  const options = { jobs: HISTORY, due: DUE, fromMs, spanMs, webhookUrl: `${receiverUrl}/reviews/callback` };
  if (database.kind === 'postgres') {
    const { Client } = require('pg');
    const client = new Client({ connectionString: database.url });
    await client.connect();
    await fillHistory((sql) => client.query(sql), { ...options, postgres: true });
    await client.query('ANALYZE');
    await client.end();
  } else {
    const Database = require('better-sqlite3');
    const db = new Database(new URL(database.url.replace('sqlite:///', 'file:///')).pathname);
    await fillHistory(async (sql) => db.exec(sql), { ...options, postgres: false });
    db.close();
  }
  return (Date.now() - started) / 1000;
}

/** Polls /health/live every 10 ms until stopped; the slowest answer is how long the relay's thread was held. */
function probe(url) {
  let slowest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(`${url}/health/live`)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      slowest = Math.max(slowest, performance.now() - t);
      await sleep(10);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return slowest;
  };
}

async function lagMaxMs(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : null;
}

async function measure(url, request) {
  const times = [];
  const holds = [];
  const lags = [];
  let status = 0;
  for (let i = 0; i < REPEAT; i += 1) {
    await lagMaxMs(url); // resets the relay's lag maximum
    const stop = probe(url);
    await sleep(30);
    const t = performance.now();
    const answer = await fetch(`${url}${request}`, { headers });
    await answer.arrayBuffer();
    times.push(performance.now() - t);
    status = answer.status;
    holds.push(await stop());
    lags.push(await lagMaxMs(url));
  }
  return {
    status,
    ms: percentile(times, 50),
    held_ms: percentile(holds, 50),
    lag_max_ms: lags[0] === null ? null : percentile(lags, 50),
  };
}

async function main() {
  const peers = await startPeers(50);
  const database = await freshDatabase();
  // A first start migrates the empty database; the history goes in while no relay runs.
  await (await startRelay(peers, { JOB_RETENTION_DAYS: '0' }, { database, keepDatabase: true })).stop();
  const fillSeconds = await fill(database, peers.receiverUrl);
  const relay = await startRelay(peers, { JOB_RETENTION_DAYS: '0' }, { database, keepDatabase: true });
  // The due jobs flow first (forward, callback, delivery), with the probe on: what the ticks do to the thread.
  await peers.reset();
  await lagMaxMs(relay.url); // the first scrape resets the maximum, which start-up (migrations, compiling) raised
  const flowProbe = probe(relay.url);
  const flowStarted = Date.now();
  while ((await peers.stats()).deliveries < DUE && Date.now() - flowStarted < 600_000) await sleep(250);
  const flow = {
    jobs: (await peers.stats()).deliveries,
    seconds: (Date.now() - flowStarted) / 1000,
    held_ms: await flowProbe(),
    lag_max_ms: await lagMaxMs(relay.url),
  };
  const first = await (await fetch(`${relay.url}/v1/reviews?limit=1`, { headers })).json();
  const middle = Math.floor(HISTORY / 2);
  const middleId = `job_f${middle.toString(16).padStart(31, '0')}`;
  const middleJob = await (await fetch(`${relay.url}/v1/reviews/${middleId}`, { headers })).json();
  const cursor = Buffer.from(`${Date.parse(middleJob.created_at)}:${middleId}`).toString('base64url');
  const cursorPaging = 'next_cursor' in first;

  const reads = [
    ['GET /v1/reviews (first page)', '/v1/reviews'],
    [
      cursorPaging ? 'GET /v1/reviews?cursor=<half-way>' : `GET /v1/reviews?offset=${middle}`,
      cursorPaging ? `/v1/reviews?cursor=${cursor}` : `/v1/reviews?offset=${middle}`,
    ],
    ['GET /v1/reviews?status=delivery_failed', '/v1/reviews?status=delivery_failed'],
    ['GET /v1/reviews?submission_id=subm-4242', '/v1/reviews?submission_id=subm-4242'],
    [
      'GET /v1/reviews?created_after=<a day>',
      `/v1/reviews?created_after=${new Date(Date.now() - 100 * DAY).toISOString()}&created_before=${new Date(Date.now() - 99 * DAY).toISOString()}&limit=100`,
    ],
    ['GET /v1/reviews/{id}', `/v1/reviews/${middleId}`],
    ['GET /v1/reviews/{id}/attempts', `/v1/reviews/${middleId}/attempts`],
    ['GET /v1/reviews/changes (first page)', '/v1/reviews/changes?limit=100'],
    ['GET /v1/reviews/summary', '/v1/reviews/summary'],
    ['GET /metrics', '/metrics'],
    ['GET /health/ready', '/health/ready'],
  ];
  const results = {
    when: new Date().toISOString(),
    node: process.version,
    database: database.kind,
    history: HISTORY,
    due: DUE,
    fill_seconds: fillSeconds,
    due_flow: flow,
    reads: {},
  };
  for (const [label, request] of reads) results.reads[label] = await measure(relay.url, request);
  const flowed = await (
    await fetch(`${relay.url}/v1/reviews?status=delivered&limit=1&include_total=true`, { headers })
  ).json();
  await relay.stop();

  if (RETENTION) {
    // Every finished job older than 30 days goes: about eleven twelfths of the history.
    const sweeper = await startRelay(
      peers,
      { JOB_RETENTION_DAYS: '30', RETENTION_SWEEP_INTERVAL_SECONDS: '1' },
      { database, keepDatabase: true },
    );
    await lagMaxMs(sweeper.url); // resets the maximum that start-up raised
    const stop = probe(sweeper.url);
    const started = Date.now();
    let deleted = 0;
    let lagMax = 0;
    for (let quiet = 0; quiet < 3;) {
      await sleep(1000);
      const text = await (await fetch(`${sweeper.url}/metrics`)).text();
      lagMax = Math.max(lagMax, Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? 0) * 1000);
      const now = Number(/^relay_jobs_deleted_total (\S+)$/m.exec(text)?.[1] ?? 0);
      quiet = now === deleted && now > 0 ? quiet + 1 : 0;
      deleted = now;
      if (Date.now() - started > 1_800_000) break;
    }
    results.retention = {
      deleted,
      seconds: (Date.now() - started) / 1000 - 3,
      held_ms: await stop(),
      lag_max_ms: lagMax,
    };
    await sweeper.stop();
  }
  await database.drop();
  await peers.stop();

  const rows = [
    [`history: finished jobs / due`, `${HISTORY} / ${DUE}`, ''],
    ['filled in', results.fill_seconds, 's', 1],
  ];
  const f = results.due_flow;
  rows.push([
    `the ${DUE} due jobs delivered`,
    `${f.jobs} in ${f.seconds.toFixed(1)} s; thread held ${f.held_ms.toFixed(1)} ms${f.lag_max_ms === null ? '' : `; loop lag max ${f.lag_max_ms.toFixed(1)} ms`}`,
    '',
  ]);
  for (const [label, r] of Object.entries(results.reads)) {
    rows.push([
      `${label}  [${r.status}]`,
      `${r.ms.toFixed(1)} ms; thread held ${r.held_ms.toFixed(1)} ms${r.lag_max_ms === null ? '' : `; loop lag max ${r.lag_max_ms.toFixed(1)} ms`}`,
      '',
    ]);
  }
  if (results.retention) {
    const r = results.retention;
    rows.push([
      'retention sweep (30 days)',
      `${r.deleted} jobs in ${r.seconds.toFixed(0)} s (${(r.deleted / r.seconds).toFixed(0)}/s); thread held ${r.held_ms.toFixed(1)} ms; loop lag max ${r.lag_max_ms.toFixed(1)} ms`,
      '',
    ]);
  }
  process.stdout.write(
    `\nLLM relay on a large history (${results.database}, Node ${results.node}; ${flowed.total ?? '?'} delivered jobs after the reads)\n\n${table(rows)}\n\n`,
  );
  saveResults('bench-history', results);
}

run(main);
