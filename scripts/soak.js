#!/usr/bin/env node
// Soak: runs the built relay (node dist/main.js) on a fresh SQLite file, posts jobs at a steady rate for a while with
// a share of failing and slow receivers, then waits for every job to end and prints what happened.
//   node scripts/soak.js [--seconds 120] [--rate 50] [--failing 0.2] [--slow 0.1]
// Everything runs on loopback; request loops are bounded by --seconds and --rate.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const SECONDS = Number(args.seconds ?? 120);
const RATE = Number(args.rate ?? 50);
const FAILING = Number(args.failing ?? 0.2);
const SLOW = Number(args.slow ?? 0.1);

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => handler(req, res, body));
    });
    server.keepAliveTimeout = 5000;
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function post(url, body) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode, body: text, ms: Number(process.hrtime.bigint() - started) / 1e6 }),
      );
    });
    req.on('error', (error) =>
      resolve({ status: 0, body: String(error), ms: Number(process.hrtime.bigint() - started) / 1e6 }),
    );
    req.end(JSON.stringify(body));
  });
}

function rssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-soak-'));
  const llm = await listen((req, res, body) => {
    const job = JSON.parse(body);
    res.writeHead(202).end();
    setTimeout(
      () => {
        post(job.callback_url, { ok: true, result: { score: 0.5, feedback: 'x'.repeat(200) } });
      },
      20 + Math.random() * 200,
    );
  });
  const seenFirst = new Set();
  const web = await listen((req, res, body) => {
    const { job_id: jobId } = JSON.parse(body);
    const kind = req.url.split('/')[1];
    if (kind === 'failing' && !seenFirst.has(jobId)) {
      seenFirst.add(jobId);
      return res.writeHead(500).end();
    }
    if (kind === 'slow') return setTimeout(() => res.writeHead(200).end(), 1000 + Math.random() * 1000);
    res.writeHead(204).end();
  });
  const relay = spawn(process.execPath, [path.resolve(__dirname, '../dist/main.js')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: `sqlite:///${dir}/relay.db`,
      LLM_API_URL: `http://127.0.0.1:${llm.address().port}`,
      CALLBACK_BACKOFF_SECONDS: '0.5',
      INTAKE_RATE_LIMIT: '1000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  relay.on('exit', (code) => {
    if (code !== null && code !== 0) console.error(`relay exited with ${code}`);
  });
  let output = '';
  relay.stdout.on('data', (chunk) => (output += chunk));
  const relayUrl = await new Promise((resolve) => {
    const timer = setInterval(() => {
      const match = /listening on [^:]+:(\d+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    }, 50);
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const rssStart = rssMiB(relay.pid);
  const webBase = `http://127.0.0.1:${web.address().port}`;

  console.log(`soak: ${SECONDS}s at ${RATE}/s, ${FAILING * 100}% failing-once and ${SLOW * 100}% slow receivers`);
  const latencies = [];
  const jobs = [];
  let rejected = 0;
  const total = SECONDS * RATE;
  const started = Date.now();
  const inFlight = [];
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const roll = Math.random();
    const kind = roll < FAILING ? 'failing' : roll < FAILING + SLOW ? 'slow' : 'ok';
    inFlight.push(
      post(`${relayUrl}/v1/reviews`, {
        submission_id: `soak-${i}`,
        file_refs: [{ url: 'https://files.example.com/x.pdf' }],
        webhook_url: `${webBase}/${kind}/hook`,
      }).then((answer) => {
        latencies.push(answer.ms);
        if (answer.status === 202) jobs.push(JSON.parse(answer.body).job_id);
        else rejected += 1;
      }),
    );
  }
  await Promise.all(inFlight);
  const intakeSeconds = (Date.now() - started) / 1000;

  const count = async (status) =>
    JSON.parse(await get(`${relayUrl}/v1/reviews?status=${status}&limit=1&include_total=true`)).total;
  let delivered = 0;
  let failed = 0;
  const drainDeadline = Date.now() + 120_000;
  while (Date.now() < drainDeadline) {
    delivered = await count('delivered');
    failed = await count('delivery_failed');
    if (delivered + failed >= jobs.length) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const rssEnd = rssMiB(relay.pid);
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    `accepted ${jobs.length}, rejected ${rejected}, delivered ${delivered}, delivery_failed ${failed}, unfinished ${jobs.length - delivered - failed}`,
  );
  console.log(
    `intake: ${(jobs.length / intakeSeconds).toFixed(1)}/s achieved; latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`,
  );
  console.log(`relay RSS: ${rssStart.toFixed(1)} MiB after start, ${rssEnd.toFixed(1)} MiB at the end`);
  relay.kill('SIGTERM');
  llm.close();
  web.close();
  agent.destroy();
  await new Promise((resolve) => relay.once('exit', resolve));
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(jobs.length - delivered - failed === 0 ? 0 : 1);
}

function get(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
