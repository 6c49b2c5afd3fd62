import * as fs from 'node:fs';
import { DataSource } from 'typeorm';
import { KEY_BY_DIGEST } from '../../src/clients/clients.repository';
import { parseDatabaseUrl } from '../../src/config/database-url';
import { Dialect } from '../../src/database/dialect';
import { SqlExecutor } from '../../src/database/sql-executor';
import { AttemptsRepository } from '../../src/jobs/attempts.repository';
import { ClaimsRepository } from '../../src/jobs/claims.repository';
import { JobLoadRepository } from '../../src/jobs/job-load.repository';
import { JobQueriesRepository, type JobFilter } from '../../src/jobs/job-queries.repository';
import { relayDataSourceOptions } from '../../src/jobs/relay-data-source';
import { FEED_START } from '../../src/reviews/feed-cursor';
import { createTestDatabase, postgresReachable } from '../support/postgres';
import { tempDir } from '../support/relay';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fillHistory, clientIdOf } = require('../../scripts/bench/history-fill') as {
  fillHistory: (query: (sql: string) => Promise<unknown>, options: Record<string, unknown>) => Promise<void>;
  clientIdOf: (n: number) => string;
};

const DAY = 86_400_000;
const JOBS = 20_000;
const CLIENTS = 20;

/** Every statement a per-client read runs, with its parameters, as the relay's repositories build them. */
function clientReads(
  dataSource: DataSource,
): Array<{ what: string; sql: string; parameters: unknown[]; index: RegExp }> {
  const sql = new SqlExecutor(dataSource);
  const dialect = Dialect.of(dataSource);
  const queries = new JobQueriesRepository(sql);
  const load = new JobLoadRepository(sql);
  const attempts = new AttemptsRepository(sql);
  const dueSql = new ClaimsRepository(sql).dueSql([3, 10, 17].map((n) => ({ clientId: clientIdOf(n), room: 16 })));
  // Client 10 has jobs of every kind the fill makes (its failed ones included: i % 50 = 0 and i % 20 = 10).
  const clientId = clientIdOf(10);
  const at = { createdAt: Date.now() - 10 * DAY, id: 'job_f' + 'f'.repeat(31) };
  const page = (filter: Partial<JobFilter>) => queries.pageQuery({ limit: 20, offset: 0, clientId, ...filter });
  const built = (what: string, query: { getQueryAndParameters(): [string, unknown[]] }, index: RegExp) => {
    const [text, parameters] = query.getQueryAndParameters();
    return { what, sql: text, parameters, index };
  };
  const raw = (what: string, text: string, parameters: unknown[], index: RegExp) => ({
    what,
    sql: dialect.placeholders(text),
    parameters,
    index,
  });
  return [
    built('list', page({}), /idx_jobs_client_created/),
    built('list after a cursor', page({ after: at }), /idx_jobs_client_created/),
    built('list by status', page({ status: 'delivery_failed', after: at }), /idx_jobs_client_status_created/),
    built('list by submission', page({ submissionId: 'subm-7', status: 'delivered' }), /idx_jobs_submission/),
    built('list by time', page({ createdFrom: Date.now() - 20 * DAY }), /idx_jobs_client_created/),
    built('feed', queries.changesQuery(FEED_START, 100, clientId), /idx_jobs_client_change/),
    built(
      'feed after a cursor',
      queries.changesQuery({ seq: 5_000, id: 'job_' + '0'.repeat(32) }, 100, clientId),
      /idx_jobs_client_change/,
    ),
    raw('oldest pending', load.clientOldestSql, [clientId, clientId, clientId], /idx_jobs_client_status_created/),
    raw(
      'attempts of a range',
      attempts.clientRangeSql,
      [clientId, 1, 2_000],
      /INTEGER PRIMARY KEY|Index Scan using "?PK_\w+"? on delivery_attempts/,
    ),
    raw('key by digest', KEY_BY_DIGEST, ['0'.repeat(64)], /client_api_keys|key_digest/),
    raw(
      'queue position',
      queries.queuePositionSql,
      [clientId, 1, 10_000, clientId, 1, Date.now(), 10_000],
      /idx_jobs_client_due/,
    ),
    // The fair claim: the clients' load (a row per client, its counter rows and its forwards in progress), then the
    // first due jobs of each client and priority.
    raw('fair claim: the clients and their load', load.clientLoadSql, [], /idx_jobs_forwarding/),
    raw('fair claim: the due jobs of three clients', dueSql.sql, dueSql.params, /idx_jobs_client_due/),
  ];
}

async function fill(dataSource: DataSource, postgres: boolean): Promise<void> {
  await fillHistory((text) => dataSource.query(text), {
    postgres,
    jobs: JOBS,
    due: 2_000,
    clients: CLIENTS,
    fromMs: Date.now() - 60 * DAY,
    spanMs: 60 * DAY,
    webhookUrl: 'https://lms.example.edu/hooks/review',
  });
  // Spread the history's change numbers over time, as a relay's own writes would.
  await dataSource.query("UPDATE jobs SET change_seq = created_at / 1000 WHERE request_hash LIKE 'history%'");
}

describe("one client's reads on a history of 20 clients: an index each, no scan, no sort", () => {
  it('on SQLite', async () => {
    const dir = tempDir('relay-client-plans-');
    const dataSource = await new DataSource(
      relayDataSourceOptions(parseDatabaseUrl(`sqlite:///${dir}/relay.db`)),
    ).initialize();
    try {
      await fill(dataSource, false);
      for (const read of clientReads(dataSource)) {
        const plan = (await dataSource.query(`EXPLAIN QUERY PLAN ${read.sql}`, read.parameters))
          .map((row: { detail: string }) => row.detail)
          .join(' / ');
        expect(`${read.what}: ${plan}`).toMatch(read.index);
        // The range's counts are grouped by minute over at most 2,000 rows: the only B-tree allowed is that one.
        expect(`${read.what}: ${plan}`).not.toMatch(
          /TEMP B-TREE FOR (ORDER BY|DISTINCT)|TEMP B-TREE FOR GROUP BY.*jobs/,
        );
        const scans = plan
          .split(' / ')
          // A scan of a subquery's few rows (a count of at most its LIMIT, one client's due jobs) is not a table's.
          .filter((step: string) => step.startsWith('SCAN') && !/USING|CONSTANT ROW|^SCAN (ahead|due_\d+)$/.test(step));
        expect(`${read.what}: ${scans.join(' / ')}`).toBe(`${read.what}: `);
      }
      // The counts are one counter row per client and status, read by their primary key.
      const counts = (
        await dataSource.query(
          `EXPLAIN QUERY PLAN ${new JobLoadRepository(new SqlExecutor(dataSource)).clientCountsSql}`,
          [clientIdOf(10)],
        )
      )
        .map((row: { detail: string }) => row.detail)
        .join(' / ');
      expect(counts).toMatch(
        /SEARCH job_counts USING (COVERING )?INDEX sqlite_autoindex_job_counts_1 \(client_id=\?\)/,
      );
    } finally {
      await dataSource.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  (postgresReachable('the per-client plans on PostgreSQL') ? it : it.skip)(
    'on PostgreSQL (statistics gathered)',
    async () => {
      const database = await createTestDatabase('relay_client_plans');
      const dataSource = await new DataSource(relayDataSourceOptions(parseDatabaseUrl(database.url))).initialize();
      try {
        await dataSource.runMigrations();
        await fill(dataSource, true);
        await dataSource.query('ANALYZE');
        for (const read of clientReads(dataSource)) {
          const plan = (await dataSource.query(`EXPLAIN ${read.sql}`, read.parameters))
            .map((row: Record<string, string>) => row['QUERY PLAN'])
            .join('\n');
          expect(`${read.what}: ${plan}`).toMatch(read.index);
          expect(`${read.what}: ${plan}`).not.toMatch(/Seq Scan on (jobs|delivery_attempts)/);
          // A sort only of what one client's index gave (the planner's pick for a handful of expected matches), or
          // of the 2,000-row range the summary groups by minute; never of a walk of the history.
          if (/Sort/.test(plan) && !/Sort Key: c\.created_at, c\.id\n/.test(plan)) {
            expect(`${read.what}: ${plan}`).toMatch(
              /Bitmap Index Scan on idx_jobs_client_|Index Scan using "?PK_\w+"? on delivery_attempts/,
            );
          }
        }
        // job_counts holds one row per client and status however many jobs there are: a read of it costs that.
        const [{ rows }] = await dataSource.query('SELECT COUNT(*) AS rows FROM job_counts');
        expect(Number(rows)).toBeLessThanOrEqual((CLIENTS + 1) * 6);
      } finally {
        await dataSource.destroy();
        await database.drop();
      }
    },
    120_000,
  );
});
