// Starting and stopping the processes a benchmark needs: the built relay, its peers, and the reference servers.
const { fork, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const API_KEY = 'bench-key-0123456789abcdef';

function waitForLine(child, pattern, what) {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output.slice(-2000)}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = pattern.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve(match);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${output.slice(-2000)}`)));
  });
}

async function waitForLogLine(child, file, pattern) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = fs.readFileSync(file, 'utf8');
    const match = pattern.exec(text);
    if (match) return match;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the relay did not start:\n${text.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startFloor(kind) {
  const child = spawn(process.execPath, [path.join(__dirname, 'floors.js'), kind], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [, port] = await waitForLine(child, /port (\d+)/, `the ${kind} reference server`);
  return { url: `http://127.0.0.1:${port}`, stop: () => stop(child) };
}

async function startPeers(delayMs) {
  const child = fork(path.join(__dirname, 'peers.js'), {
    env: { ...process.env, BENCH_LLM_DELAY_MS: String(delayMs) },
  });
  const ports = await new Promise((resolve) => child.once('message', resolve));
  const ask = (message, key) =>
    new Promise((resolve) => {
      const onMessage = (answer) => {
        if (!(key in answer)) return;
        child.off('message', onMessage);
        resolve(answer[key]);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  return {
    llmUrl: `http://127.0.0.1:${ports.llm}`,
    receiverUrl: `http://127.0.0.1:${ports.receiver}`,
    stats: () => ask('stats', 'stats'),
    reset: () => ask('reset', 'reset'),
    stop: () => stop(child),
  };
}

/** A fresh database for one relay: a new SQLite file, or a new database on the PostgreSQL server DATABASE_URL names. */
async function freshDatabase() {
  const given = process.env.DATABASE_URL;
  if (given && /^postgres(ql)?:/.test(given)) {
    const { Client } = require('pg');
    const name = `relay_bench_${crypto.randomBytes(5).toString('hex')}`;
    const admin = new Client({ connectionString: given });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(given);
    url.pathname = `/${name}`;
    const drop = async () => {
      const client = new Client({ connectionString: given });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    };
    return { url: url.toString(), kind: 'postgres', drop };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-bench-'));
  return {
    url: `sqlite:///${dir}/relay.db`,
    kind: 'sqlite',
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The built relay as production runs it (JSON logs at info, API keys), with the intake rate limit lifted.
 * BENCH_RELAY_NODE_ARGS adds Node options, e.g. "--cpu-prof --cpu-prof-dir=.tmp/profiles"; BENCH_RELAY_ROOT runs the
 * build of another checkout (e.g. an earlier commit) for a before/after comparison; BENCH_RELAY_ENV (JSON) sets more
 * variables, e.g. '{"INTAKE_MAX_BACKLOG":"500"}'. `database` (from freshDatabase) runs it on an existing database, which
 * `keepDatabase` keeps after the stop.
 */
async function startRelay(peers, extraEnv = {}, { database = null, keepDatabase = false } = {}) {
  database ??= await freshDatabase();
  const nodeArgs = (process.env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const root = process.env.BENCH_RELAY_ROOT ? path.resolve(process.env.BENCH_RELAY_ROOT) : ROOT;
  // Logs go to a file: a pipe read by this busy process would fill up and stall pino's synchronous writes.
  const logFile = path.join(os.tmpdir(), `relay-bench-${process.pid}-${Date.now()}.log`);
  const log = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      LLM_API_URL: peers.llmUrl,
      RELAY_API_KEYS: API_KEY,
      CALLBACK_HMAC_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
      INTAKE_RATE_LIMIT: '1000000',
      ...JSON.parse(process.env.BENCH_RELAY_ENV ?? '{}'),
      ...extraEnv,
    },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const [, port] = await waitForLogLine(child, logFile, /listening on [^:]+:(\d+)/);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    database: database.kind,
    logFile,
    stop: async () => {
      await stop(child);
      if (!keepDatabase) await database.drop();
      if (process.env.BENCH_KEEP_LOGS === '1') process.stderr.write(`relay log kept: ${logFile}\n`);
      else fs.rmSync(logFile, { force: true });
    },
  };
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function rssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

module.exports = { API_KEY, freshDatabase, startFloor, startPeers, startRelay, rssMiB };
