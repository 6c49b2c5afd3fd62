// Fills a relay database with a history in a few statements: finished jobs spread over a time span (one in 50
// delivery_failed, the rest delivered, each with a forward and a delivery attempt) and, optionally, queued jobs due
// now. Shared by `npm run bench:history` and the suite's history tests. `query(sql)` runs one statement.
// Ids follow the relay's pattern (job_ + 32 hex digits); history ids are numbered, prefixed so they never collide.
// With `clients`, job i belongs to client cli_<24 hex digits of i % clients> (clientIdOf), its attempts too.

/**
 * @param {(sql: string) => Promise<unknown>} query
 * @param {{ postgres: boolean, jobs: number, due?: number, fromMs: number, spanMs: number, webhookUrl: string, prefix?: string, clients?: number }} options
 */
async function fillHistory(query, { postgres, jobs, due = 0, fromMs, spanMs, webhookUrl, prefix = 'f', clients = 0 }) {
  const hex = (n) => (postgres ? `lpad(to_hex(${n}), 31, '0')` : `printf('%031x', ${n})`);
  const id = (n) => `'job_${prefix}' || ${hex(n)}`;
  const numbers = (count) => `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})`;
  const step = Math.max(1, Math.floor(spanMs / Math.max(1, jobs)));
  const yes = postgres ? 'true' : '1';
  const url = webhookUrl.replace(/'/g, "''");
  // Without clients the column is left to its default (`default`), so a schema from before clients fills too.
  const clientHex = postgres ? `lpad(to_hex(i % ${clients}), 24, '0')` : `printf('%024x', i % ${clients})`;
  const client = clients > 0 ? `'cli_' || ${clientHex}, ` : '';
  const clientColumn = clients > 0 ? 'client_id, ' : '';
  const columns =
    clientColumn +
    'id, submission_id, student_id, file_refs, metadata, webhook_url, request_hash, status, ok, result, ' +
    'forward_attempts, delivery_attempts, delivery_rounds, next_attempt_at, created_at, updated_at, forwarded_at, outcome_at, delivered_at';
  const finished = `CASE WHEN i % 50 = 0 THEN 'delivery_failed' ELSE 'delivered' END`;
  const at = `(${fromMs} + (CAST(i AS BIGINT) - 1) * ${step})`;
  await query(
    `${numbers(jobs)} INSERT INTO jobs (${columns}) SELECT ${client}${id('i')}, 'subm-' || (i % 100000), 'stu-' || (i % 5000), ` +
      `'[{"url":"https://files.example.com/a.pdf","name":"a.pdf"}]', '{"course":"ML-101"}', '${url}', 'history', ` +
      `${finished}, ${yes}, '{"score":0.8}', 1, 1, 1, NULL, ${at}, ${at} + 2000, ${at} + 10, ${at} + 1500, ` +
      `CASE WHEN i % 50 = 0 THEN NULL ELSE ${at} + 1600 END FROM n`,
  );
  const jobIds = `SELECT id, ${clientColumn}created_at FROM jobs WHERE id LIKE 'job_${prefix}%' AND request_hash = 'history'`;
  await query(
    `INSERT INTO delivery_attempts (job_id, ${clientColumn}leg, attempt_no, delivery_round, target, status_code, outcome, error, duration_ms, started_at) ` +
      `SELECT id, ${clientColumn}'forward', 1, NULL, 'http://llm.example/v1/reviews', 202, 'success', NULL, 8, created_at + 10 FROM (${jobIds}) AS h`,
  );
  await query(
    `INSERT INTO delivery_attempts (job_id, ${clientColumn}leg, attempt_no, delivery_round, target, status_code, outcome, error, duration_ms, started_at) ` +
      `SELECT id, ${clientColumn}'delivery', 1, 1, '${url}', 200, 'success', NULL, 12, created_at + 1600 FROM (${jobIds}) AS h`,
  );
  if (due > 0) {
    const now = Date.now();
    await query(
      `${numbers(due)} INSERT INTO jobs (${columns}) SELECT ${client}${id(`i + ${jobs}`)}, 'subm-due-' || i, 'stu-1', ` +
        `'[{"url":"https://files.example.com/a.pdf","name":"a.pdf"}]', '{"course":"ML-101"}', '${url}', 'history-due', ` +
        `'queued', NULL, NULL, 0, 0, 0, ${now}, ${now} - 1000 + i, ${now} - 1000 + i, NULL, NULL, NULL FROM n`,
    );
  }
}

/** The id fillHistory gives the n-th of `clients` clients (0-based). */
function clientIdOf(n) {
  return `cli_${n.toString(16).padStart(24, '0')}`;
}

module.exports = { fillHistory, clientIdOf };
