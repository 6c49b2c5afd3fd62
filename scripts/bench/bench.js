#!/usr/bin/env node
// npm run bench [-- --rounds 3 --seconds 10 --overload-seconds 30 --rss-jobs 100000 --delay 50 --only intake,cycle,overload,failing,rss]
// (--only clients [--clients 1,20]: intake and the full cycle with keys issued to that many clients, spread evenly;
// --only servers [--servers 1,3]: the full cycle with that many LLM servers in LLM_SERVERS, all on the fake LLM)
// (--only replicas [--replicas 1,2,3]: relays sharing one PostgreSQL; needs DATABASE_URL=postgres://…;
// --only failing: deliveries to a refused port, retried without backoff: attempts/s and the relay's CPU)
// Starts the built relay (dist/) on a fresh SQLite file, or on a fresh database of the PostgreSQL server that
// DATABASE_URL names, with a fake LLM that calls back after --delay ms and a receiver, all on loopback; drives
// load with autocannon and prints a table (each figure the median of its rounds, with min and max) and the same
// as JSON (also written to .tmp/bench-<time>.json). Run `npm run build` first.
const autocannon = require('autocannon');
const { API_KEY, freshDatabase, rssMiB, startFloor, startPeers, startRelay } = require('./processes');
const { percentile, run, saveResults, spread, table } = require('./report');

const args = Object.fromEntries(
  process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith('--') ? [[arg.slice(2), all[i + 1]]] : [])),
);
const ROUNDS = Number(args.rounds ?? 3);
const SECONDS = Number(args.seconds ?? 10);
const OVERLOAD_SECONDS = Number(args['overload-seconds'] ?? 30);
const RSS_JOBS = Number(args['rss-jobs'] ?? 100_000);
const DELAY_MS = Number(args.delay ?? 50);
const CONNECTIONS = Number(args.connections ?? 50);
// The overload case runs twice per round: as configured by default, and with intake admission by event-loop delay.
const OVERLOAD_DELAY_LIMIT_MS = Number(args['overload-delay-limit'] ?? 100);
const ONLY = new Set((args.only ?? 'intake,cycle,overload,failing,rss').split(','));
const CLIENT_COUNTS = (args.clients ?? '1,20').split(',').map(Number);
const SERVER_COUNTS = (args.servers ?? '1,3').split(',').map(Number);
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function reviewBody(receiverUrl) {
  return JSON.stringify({
    submission_id: 'subm-bench',
    student_id: 'stu-42',
    file_refs: [{ url: 'https://files.example.com/1.pdf', name: '1.pdf' }],
    metadata: { course: 'ML-101', attempt: 1 },
    webhook_url: `${receiverUrl}/reviews/callback`,
  });
}

/** `apiKeys`: requests take these keys in turn (an issued key per client) instead of the environment's API_KEY. */
function load(url, body, { apiKeys, ...options } = {}) {
  // autocannon stops at `amount` requests when given one, else after `duration` seconds.
  const limit = options.amount ? {} : { duration: SECONDS };
  let turn = 0;
  const keyed = apiKeys
    ? {
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              headers: { ...request.headers, 'x-api-key': apiKeys[turn++ % apiKeys.length] },
            }),
          },
        ],
      }
    : {};
  return autocannon({
    url: `${url}/v1/reviews`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body,
    connections: CONNECTIONS,
    ...limit,
    ...keyed,
    ...options,
  });
}

const intakeFigures = (result) => ({
  rps: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
});

/** Waits until the receiver has every accepted job (or the deadline passes); returns the peers' stats then. */
async function drained(peers, expected, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await peers.stats();
    if (stats.deliveries >= expected || Date.now() > deadline) return stats;
    await sleep(250);
  }
}

async function intake(peers) {
  const raw = await startFloor('raw');
  const nest = await startFloor('nest');
  const relay = await startRelay(peers);
  const body = reviewBody(peers.receiverUrl);
  const runs = { raw: [], nest: [], relay: [] };
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      runs.raw.push(intakeFigures(await load(raw.url, body)));
      runs.nest.push(intakeFigures(await load(nest.url, body)));
      runs.relay.push(intakeFigures(await load(relay.url, body)));
    }
  } finally {
    await Promise.all([raw.stop(), nest.stop(), relay.stop()]);
  }
  const pick = (name, key) => spread(runs[name].map((run) => run[key]));
  const ratio = (name) => spread(runs.relay.map((run, i) => run.rps / runs[name][i].rps));
  return {
    raw_rps: pick('raw', 'rps'),
    nest_rps: pick('nest', 'rps'),
    relay_rps: pick('relay', 'rps'),
    relay_p50_ms: pick('relay', 'p50'),
    relay_p99_ms: pick('relay', 'p99'),
    relay_over_raw: ratio('raw'),
    relay_over_nest: ratio('nest'),
  };
}

/** A burst at full intake for SECONDS, then the time until every accepted job is delivered. */
async function fullCycle(peers) {
  const runs = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const relay = await startRelay(peers);
    await peers.reset();
    const started = (await peers.stats()).now;
    const result = await load(relay.url, reviewBody(peers.receiverUrl));
    const stats = await drained(peers, result['2xx']);
    const lastDelivery = Math.max(...stats.deliveredAt);
    runs.push({ accepted: result['2xx'], jobsPerSecond: stats.deliveries / ((lastDelivery - started) / 1000) });
    await relay.stop();
  }
  return {
    full_cycle_jobs_per_s: spread(runs.map((run) => run.jobsPerSecond)),
    accepted_per_burst: spread(runs.map((run) => run.accepted)),
  };
}

/** A relay with admin keys and `count` clients: its handle and one issued key per client. */
async function relayWithClients(peers, count) {
  const relay = await startRelay(peers, {
    RELAY_ADMIN_KEYS: ADMIN_KEY,
    RELAY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  });
  const apiKeys = [];
  for (let i = 0; i < count; i += 1) {
    const response = await fetch(`${relay.url}/v1/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ name: `bench client ${i + 1}` }),
    });
    if (response.status !== 201) throw new Error(`POST /v1/clients answered ${response.status}`);
    apiKeys.push((await response.json()).api_key);
  }
  return { relay, apiKeys };
}

/**
 * Per client count: intake with the environment's key and with issued keys (looked up by digest) in the same relay,
 * alternating, then a burst's full cycle with issued keys (each delivery signed with its client's sealed secret).
 */
async function clients(peers) {
  const body = reviewBody(peers.receiverUrl);
  const results = {};
  for (const count of CLIENT_COUNTS) {
    const runs = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const first = await relayWithClients(peers, count);
      let environmentKey, issuedKeys;
      try {
        // In turn first, so that neither always meets the emptier database.
        const withEnvironmentKey = async () => (environmentKey = intakeFigures(await load(first.relay.url, body)));
        const withIssuedKeys = async () =>
          (issuedKeys = intakeFigures(await load(first.relay.url, body, { apiKeys: first.apiKeys })));
        for (const step of round % 2 === 0
          ? [withEnvironmentKey, withIssuedKeys]
          : [withIssuedKeys, withEnvironmentKey])
          await step();
      } finally {
        await first.relay.stop();
      }
      const second = await relayWithClients(peers, count);
      try {
        await peers.reset();
        const started = (await peers.stats()).now;
        const burst = await load(second.relay.url, body, { apiKeys: second.apiKeys });
        const stats = await drained(peers, burst['2xx']);
        const cycle = stats.deliveries / ((Math.max(...stats.deliveredAt) - started) / 1000);
        runs.push({
          environmentKey,
          issuedKeys,
          cycle,
          non2xx: issuedKeys.non2xx + burst.non2xx,
          errors: issuedKeys.errors + issuedKeys.timeouts + burst.errors + burst.timeouts,
        });
      } finally {
        await second.relay.stop();
      }
    }
    results[count] = {
      environment_key_rps: spread(runs.map((run) => run.environmentKey.rps)),
      issued_keys_rps: spread(runs.map((run) => run.issuedKeys.rps)),
      issued_over_environment: spread(runs.map((run) => run.issuedKeys.rps / run.environmentKey.rps)),
      issued_keys_p99_ms: spread(runs.map((run) => run.issuedKeys.p99)),
      full_cycle_jobs_per_s: spread(runs.map((run) => run.cycle)),
      non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
    };
  }
  return results;
}

/** The environment of a relay forwarding to `count` LLM servers (all the one fake LLM, under different names). */
function fleetEnv(peers, count) {
  const servers = Array.from({ length: count }, (_, i) => ({ name: `gpu-${i + 1}`, url: peers.llmUrl }));
  return { LLM_API_URL: '', LLM_SERVERS: JSON.stringify(servers) };
}

/** Per server count: a burst at full intake, then the time until every accepted job is delivered. */
async function servers(peers) {
  const body = reviewBody(peers.receiverUrl);
  const results = {};
  for (const count of SERVER_COUNTS) {
    const runs = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const relay = await startRelay(peers, fleetEnv(peers, count));
      try {
        await peers.reset();
        const started = (await peers.stats()).now;
        const burst = await load(relay.url, body);
        const stats = await drained(peers, burst['2xx']);
        const cycle = stats.deliveries / ((Math.max(...stats.deliveredAt) - started) / 1000);
        runs.push({ intake: intakeFigures(burst).rps, cycle, non2xx: burst.non2xx });
      } finally {
        await relay.stop();
      }
    }
    results[count] = {
      intake_rps: spread(runs.map((run) => run.intake)),
      full_cycle_jobs_per_s: spread(runs.map((run) => run.cycle)),
      non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    };
  }
  return results;
}

/** Intake at a fixed rate for `seconds`; what the peers saw during that window and after the drain. */
async function atRate(peers, rate, seconds, env = {}) {
  const relay = await startRelay(peers, env);
  await peers.reset();
  const started = (await peers.stats()).now;
  const result = await load(relay.url, reviewBody(peers.receiverUrl), {
    overallRate: Math.max(1, Math.round(rate)),
    duration: seconds,
  });
  const windowEnd = (await peers.stats()).now;
  const stats = await drained(peers, result['2xx'], 120_000);
  await relay.stop();
  const inWindow = stats.deliveredAt.filter((at) => at <= windowEnd).length;
  return {
    intake: result,
    callbackAnswerMs: stats.callbackAnswerMs,
    callbackFailures: stats.callbackFailures,
    callbackToDeliveryMs: stats.callbackToDeliveryMs,
    deliveriesPerSecond: inWindow / ((windowEnd - started) / 1000),
  };
}

/**
 * Replicas on one PostgreSQL database (DATABASE_URL): for each count in --replicas, that many relays share a fresh
 * database; a burst of SECONDS is spread over them (one autocannon per replica, CONNECTIONS in all), then the time
 * until every accepted job is delivered gives jobs/s. Any delivery sent twice would show as duplicates.
 */
async function replicas(peers) {
  if (!/^postgres(ql)?:/.test(process.env.DATABASE_URL ?? ''))
    throw new Error('--only replicas needs DATABASE_URL=postgres://… (a server the benchmark may create databases on)');
  const counts = String(args.replicas ?? '1,2,3')
    .split(',')
    .map(Number);
  const byCount = {};
  for (const count of counts) {
    const runs = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const database = await freshDatabase();
      const relays = [];
      for (let i = 0; i < count; i += 1) relays.push(await startRelay(peers, {}, { database, keepDatabase: true }));
      await peers.reset();
      const started = (await peers.stats()).now;
      const results = await Promise.all(
        relays.map((relay) =>
          load(relay.url, reviewBody(peers.receiverUrl), { connections: Math.max(1, Math.round(CONNECTIONS / count)) }),
        ),
      );
      const accepted = results.reduce((sum, result) => sum + result['2xx'], 0);
      const stats = await drained(peers, accepted);
      runs.push({
        jobsPerSecond: stats.deliveries / ((Math.max(...stats.deliveredAt) - started) / 1000),
        duplicates: stats.deliveryRequests - stats.deliveries,
      });
      for (const relay of relays) await relay.stop();
      await database.drop();
    }
    byCount[count] = {
      full_cycle_jobs_per_s: spread(runs.map((run) => run.jobsPerSecond)),
      duplicate_deliveries: spread(runs.map((run) => run.duplicates)),
    };
  }
  return byCount;
}

/** CPU seconds the process has used (user + system), from /proc. */
function cpuSeconds(pid) {
  const fields = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function deliveryAttempts(relayUrl) {
  const text = await (await fetch(`${relayUrl}/metrics`)).text();
  let sum = 0;
  for (const match of text.matchAll(/^relay_attempts_total\{leg="delivery",outcome="[a-z]+"\} (\S+)$/gm))
    sum += Number(match[1]);
  return sum;
}

/**
 * Failing deliveries: every job's receiver refuses connections (a loopback port nobody listens on), with no backoff
 * and 100 retries, so the relay retries as fast as it can. Attempts per second over SECONDS, and the relay's CPU
 * meanwhile (a core's worth is 100 %): bounded by CPU, or by waiting?
 */
async function failingDeliveries(peers) {
  const net = require('node:net');
  const closed = await new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
  const runs = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const relay = await startRelay(peers, { CALLBACK_MAX_RETRIES: '100', CALLBACK_BACKOFF_SECONDS: '0' });
    await load(relay.url, reviewBody(closed), { amount: 500 });
    await sleep(2000); // the callbacks arrive and the deliveries start failing
    const [attempts0, cpu0, t0] = [await deliveryAttempts(relay.url), cpuSeconds(relay.pid), performance.now()];
    await sleep(SECONDS * 1000);
    const [attempts1, cpu1, t1] = [await deliveryAttempts(relay.url), cpuSeconds(relay.pid), performance.now()];
    runs.push({
      attemptsPerSecond: (attempts1 - attempts0) / ((t1 - t0) / 1000),
      cpu: (cpu1 - cpu0) / ((t1 - t0) / 1000),
    });
    await relay.stop();
  }
  return {
    attempts_per_s: spread(runs.map((run) => run.attemptsPerSecond)),
    relay_cpu_share: spread(runs.map((run) => run.cpu)),
  };
}

async function latencyAtHalf(peers, fullRate) {
  const runs = [];
  for (let round = 0; round < ROUNDS; round += 1) runs.push(await atRate(peers, fullRate / 2, SECONDS));
  return {
    rate_per_s: fullRate / 2,
    callback_to_delivery_p50_ms: spread(runs.map((run) => percentile(run.callbackToDeliveryMs, 50))),
    callback_to_delivery_p99_ms: spread(runs.map((run) => percentile(run.callbackToDeliveryMs, 99))),
    callback_answer_p50_ms: spread(runs.map((run) => percentile(run.callbackAnswerMs, 50))),
    callback_answer_p99_ms: spread(runs.map((run) => percentile(run.callbackAnswerMs, 99))),
  };
}

async function overload(peers, fullRate) {
  const plain = [];
  const limited = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    plain.push(await atRate(peers, fullRate * 2, OVERLOAD_SECONDS));
    limited.push(
      await atRate(peers, fullRate * 2, OVERLOAD_SECONDS, {
        INTAKE_MAX_EVENT_LOOP_DELAY_MS: String(OVERLOAD_DELAY_LIMIT_MS),
      }),
    );
  }
  const summary = (runs) => ({
    intake_rate_per_s: fullRate * 2,
    callback_answer_p99_ms: spread(runs.map((run) => percentile(run.callbackAnswerMs, 99))),
    callback_failures: spread(runs.map((run) => run.callbackFailures)),
    deliveries_per_s: spread(runs.map((run) => run.deliveriesPerSecond)),
    deliveries_over_full_cycle: spread(runs.map((run) => run.deliveriesPerSecond / fullRate)),
    intake_p99_ms: spread(runs.map((run) => run.intake.latency.p99)),
    intake_statuses: runs.map((run) =>
      Object.fromEntries(Object.entries(run.intake.statusCodeStats ?? {}).map(([code, { count }]) => [code, count])),
    ),
  });
  return {
    plain: summary(plain),
    limited: { intake_max_event_loop_delay_ms: OVERLOAD_DELAY_LIMIT_MS, ...summary(limited) },
  };
}

/** The relay's V8 heap in use, from its own /metrics (prom-client's nodejs_heap_size_used_bytes). */
async function heapUsedMiB(relayUrl) {
  const text = await (await fetch(`${relayUrl}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)[1]) / 1024 / 1024;
}

/**
 * RSS over RSS_JOBS jobs, measured from a warm relay (after WARMUP_JOBS: code compiled, pools and caches filled) to
 * the same relay once the run has drained, so that growth means memory kept, not start-up. The jobs are posted at
 * full speed, so the backlog peaks high; the peak is reported apart.
 */
async function memory(peers) {
  const WARMUP_JOBS = 2000;
  const relay = await startRelay(peers);
  await peers.reset();
  const warm = await load(relay.url, reviewBody(peers.receiverUrl), { amount: WARMUP_JOBS });
  await drained(peers, warm['2xx'], 300_000);
  await sleep(3000);
  const atStart = rssMiB(relay.pid);
  const heapStart = await heapUsedMiB(relay.url);
  await peers.reset();
  let peak = atStart;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(relay.pid))), 1000);
  const result = await load(relay.url, reviewBody(peers.receiverUrl), { amount: RSS_JOBS });
  const stats = await drained(peers, result['2xx'], 1_800_000);
  clearInterval(sampler);
  await sleep(3000);
  const atEnd = rssMiB(relay.pid);
  const heapEnd = await heapUsedMiB(relay.url);
  await relay.stop();
  return {
    warmup_jobs: WARMUP_JOBS,
    jobs: stats.deliveries,
    rss_start_mib: atStart,
    rss_end_mib: atEnd,
    rss_peak_mib: peak,
    rss_growth: atEnd / atStart - 1,
    heap_start_mib: heapStart,
    heap_end_mib: heapEnd,
  };
}

async function main() {
  const peers = await startPeers(DELAY_MS);
  const results = {
    when: new Date().toISOString(),
    node: process.version,
    database: /^postgres/.test(process.env.DATABASE_URL ?? '') ? 'postgres' : 'sqlite',
    rounds: ROUNDS,
    seconds: SECONDS,
    connections: CONNECTIONS,
    llm_delay_ms: DELAY_MS,
  };
  try {
    if (ONLY.has('intake')) results.intake = await intake(peers);
    if (ONLY.has('cycle') || ONLY.has('overload')) results.cycle = await fullCycle(peers);
    const fullRate = results.cycle?.full_cycle_jobs_per_s.median;
    if (ONLY.has('cycle')) results.half_rate = await latencyAtHalf(peers, fullRate);
    if (ONLY.has('overload')) results.overload = await overload(peers, fullRate);
    if (ONLY.has('rss')) results.memory = await memory(peers);
    if (ONLY.has('replicas')) results.replicas = await replicas(peers);
    if (ONLY.has('failing')) results.failing = await failingDeliveries(peers);
    if (ONLY.has('clients')) results.clients = await clients(peers);
    if (ONLY.has('servers')) results.servers = await servers(peers);
  } finally {
    await peers.stop();
  }
  print(results);
}

function print(results) {
  const rows = [];
  const { intake: i, cycle: c, half_rate: h, overload: o, memory: m } = results;
  if (i)
    rows.push(
      ['raw node:http intake', i.raw_rps, 'req/s'],
      ['Nest + ValidationPipe intake', i.nest_rps, 'req/s'],
      ['relay intake', i.relay_rps, 'req/s'],
      ['relay intake p50', i.relay_p50_ms, 'ms', 1],
      ['relay intake p99', i.relay_p99_ms, 'ms', 1],
      ['relay / raw', i.relay_over_raw, '', 3],
      ['relay / Nest floor', i.relay_over_nest, '', 3],
    );
  if (c) rows.push(['full cycle at saturation', c.full_cycle_jobs_per_s, 'jobs/s']);
  if (c && i) rows.push(['full cycle / relay intake', c.full_cycle_jobs_per_s.median / i.relay_rps.median, '', 3]);
  if (h)
    rows.push(
      [`callback→delivery p50 at ${h.rate_per_s.toFixed(0)}/s`, h.callback_to_delivery_p50_ms, 'ms', 1],
      [`callback→delivery p99 at ${h.rate_per_s.toFixed(0)}/s`, h.callback_to_delivery_p99_ms, 'ms', 1],
      [
        `callback answer p50 / p99 at ${h.rate_per_s.toFixed(0)}/s`,
        `${h.callback_answer_p50_ms.median.toFixed(1)} / ${h.callback_answer_p99_ms.median.toFixed(1)}`,
        'ms',
      ],
    );
  for (const [label, v] of o
    ? [
        ['overload', o.plain],
        [`overload, delay limit ${o.limited.intake_max_event_loop_delay_ms} ms`, o.limited],
      ]
    : []) {
    rows.push(
      [`${label} ${v.intake_rate_per_s.toFixed(0)}/s: callback answer p99`, v.callback_answer_p99_ms, 'ms', 1],
      [`${label}: callbacks failed`, v.callback_failures, ''],
      [`${label}: deliveries`, v.deliveries_per_s, '/s'],
      [`${label}: deliveries / full cycle`, v.deliveries_over_full_cycle, '', 2],
      [`${label}: intake p99`, v.intake_p99_ms, 'ms', 1],
      [`${label}: intake answers`, JSON.stringify(v.intake_statuses), ''],
    );
  }
  const base = results.replicas && Object.values(results.replicas)[0].full_cycle_jobs_per_s.median;
  for (const [count, r] of Object.entries(results.replicas ?? {})) {
    rows.push(
      [`${count} replica(s) on one PostgreSQL: full cycle`, r.full_cycle_jobs_per_s, 'jobs/s'],
      [`${count} replica(s): / the first count`, r.full_cycle_jobs_per_s.median / base, '', 2],
      [`${count} replica(s): deliveries sent twice`, r.duplicate_deliveries, ''],
    );
  }
  for (const [count, r] of Object.entries(results.clients ?? {})) {
    rows.push(
      [`${count} client(s): intake, RELAY_API_KEYS key`, r.environment_key_rps, 'req/s'],
      [`${count} client(s): intake, issued keys`, r.issued_keys_rps, 'req/s'],
      [`${count} client(s): issued / environment key`, r.issued_over_environment, '', 3],
      [`${count} client(s): intake p99, issued keys`, r.issued_keys_p99_ms, 'ms', 1],
      [`${count} client(s): full cycle, issued keys`, r.full_cycle_jobs_per_s, 'jobs/s'],
      [`${count} client(s): answers other than 2xx, errors`, `${r.non2xx}, ${r.errors}`, ''],
    );
  }
  for (const [count, r] of Object.entries(results.servers ?? {})) {
    rows.push(
      [`${count} LLM server(s): intake during the burst`, r.intake_rps, 'req/s'],
      [`${count} LLM server(s): full cycle`, r.full_cycle_jobs_per_s, 'jobs/s'],
      [`${count} LLM server(s): answers other than 2xx`, r.non2xx, ''],
    );
  }
  if (results.failing) {
    rows.push(
      ['failing deliveries (connection refused)', results.failing.attempts_per_s, 'attempts/s'],
      ['failing deliveries: relay CPU (1 = a core)', results.failing.relay_cpu_share, '', 2],
    );
  }
  if (m) {
    rows.push(
      [
        `RSS after ${m.warmup_jobs} jobs / after ${m.jobs} more`,
        `${m.rss_start_mib.toFixed(1)} / ${m.rss_end_mib.toFixed(1)}`,
        'MiB',
      ],
      ['RSS growth', m.rss_growth * 100, '%', 1],
    );
    rows.push(
      ['V8 heap used, same points', `${m.heap_start_mib.toFixed(1)} / ${m.heap_end_mib.toFixed(1)}`, 'MiB'],
      ['RSS peak during the run', m.rss_peak_mib, 'MiB', 1],
    );
  }
  process.stdout.write(
    `\nLLM relay benchmark (${results.database}, Node ${results.node}, ${results.connections} connections, ${results.rounds} rounds of ${results.seconds}s, LLM calls back after ${results.llm_delay_ms} ms)\n\n${table(rows)}\n\n`,
  );
  saveResults('bench', results);
}

run(main);
