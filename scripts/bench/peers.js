// The relay's two peers for the benchmark, in a process of their own so the load generator does not slow them:
// an LLM server that accepts each forward (202) and calls back after --delay ms, and a web-service receiver that
// answers 200. Both record timings; the parent asks for them over IPC ('stats', 'reset').
const http = require('node:http');

const delayMs = Number(process.env.BENCH_LLM_DELAY_MS ?? 50);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let callbacks = []; // [sentAt, answeredAt, status]
let deliveries = new Map(); // job_id -> deliveredAt (first delivery)
const callbackSentAt = new Map();
let deliveryCount = 0;

function readBody(req, done) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

function callBack(url, jobId) {
  const sentAt = performance.now();
  callbackSentAt.set(jobId, sentAt);
  const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
    res.resume();
    res.on('end', () => callbacks.push([sentAt, performance.now(), res.statusCode]));
  });
  req.on('error', () => callbacks.push([sentAt, performance.now(), 0]));
  req.end(
    JSON.stringify({ ok: true, result: { score: 0.8, feedback: 'Clear structure; the conclusion needs evidence.' } }),
  );
}

const llm = http.createServer((req, res) =>
  readBody(req, (body) => {
    const job = JSON.parse(body);
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
    setTimeout(() => callBack(job.callback_url, job.job_id), delayMs);
  }),
);

const receiver = http.createServer((req, res) =>
  readBody(req, (body) => {
    const now = performance.now();
    const jobId = JSON.parse(body).job_id;
    deliveryCount += 1;
    if (!deliveries.has(jobId)) deliveries.set(jobId, now);
    res.writeHead(200).end();
  }),
);
for (const server of [llm, receiver]) server.keepAliveTimeout = 65_000;

function stats() {
  const callbackAnswerMs = callbacks.map(([sent, answered]) => answered - sent);
  const callbackFailures = callbacks.filter(([, , status]) => status !== 200).length;
  const callbackToDeliveryMs = [];
  for (const [jobId, deliveredAt] of deliveries) {
    const sent = callbackSentAt.get(jobId);
    if (sent !== undefined) callbackToDeliveryMs.push(deliveredAt - sent);
  }
  return {
    now: performance.now(),
    deliveries: deliveries.size,
    deliveryRequests: deliveryCount,
    callbackAnswerMs,
    callbackFailures,
    callbackToDeliveryMs,
    deliveredAt: [...deliveries.values()],
  };
}

process.on('message', (message) => {
  if (message === 'reset') {
    callbacks = [];
    deliveries = new Map();
    callbackSentAt.clear();
    deliveryCount = 0;
    process.send({ reset: true });
  } else if (message === 'stats') process.send({ stats: stats() });
});

llm.listen(0, '127.0.0.1', () =>
  receiver.listen(0, '127.0.0.1', () => process.send({ llm: llm.address().port, receiver: receiver.address().port })),
);
