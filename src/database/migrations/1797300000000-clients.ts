import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several web services on one relay (clients):
 *
 * - `clients`, with the built-in client `default` (its keys and signing secret live in the environment), their API
 *   keys (`client_api_keys`, only SHA-256 digests, looked up by digest) and signing secrets (`client_signing_secrets`,
 *   AES-256-GCM ciphertexts; `expires_at` null for the newest, set when a rotation starts its grace period).
 * - `jobs.client_id` and `delivery_attempts.client_id`: every existing job and attempt belongs to `default`.
 * - Idempotency keys are per client: `jobs.idempotency_key` now holds `<client_id>:<key>` (client ids hold no `:`),
 *   so the column's unique constraint scopes them without rebuilding the table; existing keys gain `default:`.
 * - Per-client reads walk their own indexes: the list `(client_id, created_at, id)` and `(client_id, status,
 *   created_at, id)`, the feed `(client_id, change_seq, id)`.
 * - `job_counts` replaces `job_status_counts`: jobs per client and status, kept by the same kind of triggers (see
 *   HistoryScale), which on PostgreSQL touch each counter row once per statement in `(client_id, status)` order.
 *
 * On PostgreSQL the migration runs in one transaction holding `jobs` in SHARE mode from the copy of the counts until
 * the new triggers exist, so no status change slips between them; writes of relays still running the previous
 * version wait for the index builds meanwhile.
 */
export class Clients1797300000000 implements MigrationInterface {
  name = 'Clients1797300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    const now = Date.now();
    await queryRunner.query(
      `CREATE TABLE clients (id varchar(40) PRIMARY KEY, name varchar(200) NOT NULL,
         webhook_url_prefixes text NOT NULL DEFAULT '[]', disabled boolean NOT NULL DEFAULT false,
         created_at bigint NOT NULL, updated_at bigint NOT NULL)`,
    );
    await queryRunner.query('CREATE INDEX idx_clients_created ON clients (created_at, id)');
    await queryRunner.query(
      `INSERT INTO clients (id, name, webhook_url_prefixes, disabled, created_at, updated_at)
         VALUES ('default', 'default', '[]', false, ${now}, ${now})`,
    );
    await queryRunner.query(
      `CREATE TABLE client_api_keys (id varchar(40) PRIMARY KEY, client_id varchar(40) NOT NULL REFERENCES clients (id),
         key_digest varchar(64) NOT NULL UNIQUE, created_at bigint NOT NULL, last_used_at bigint NULL)`,
    );
    await queryRunner.query('CREATE INDEX idx_client_api_keys_client ON client_api_keys (client_id, created_at)');
    await queryRunner.query(
      `CREATE TABLE client_signing_secrets (id varchar(40) PRIMARY KEY,
         client_id varchar(40) NOT NULL REFERENCES clients (id), ciphertext text NOT NULL,
         created_at bigint NOT NULL, expires_at bigint NULL)`,
    );
    await queryRunner.query(
      'CREATE INDEX idx_client_signing_secrets_client ON client_signing_secrets (client_id, created_at)',
    );

    await queryRunner.query("ALTER TABLE jobs ADD COLUMN client_id varchar(40) NOT NULL DEFAULT 'default'");
    await queryRunner.query(
      "ALTER TABLE delivery_attempts ADD COLUMN client_id varchar(40) NOT NULL DEFAULT 'default'",
    );
    if (postgres) await queryRunner.query('ALTER TABLE jobs ALTER COLUMN idempotency_key TYPE varchar(300)');
    await queryRunner.query(
      "UPDATE jobs SET idempotency_key = 'default:' || idempotency_key WHERE idempotency_key IS NOT NULL",
    );
    await queryRunner.query('CREATE INDEX idx_jobs_client_created ON jobs (client_id, created_at, id)');
    await queryRunner.query('CREATE INDEX idx_jobs_client_status_created ON jobs (client_id, status, created_at, id)');
    await queryRunner.query('CREATE INDEX idx_jobs_client_change ON jobs (client_id, change_seq, id)');

    await queryRunner.query(
      `CREATE TABLE job_counts (client_id varchar(40) NOT NULL, status varchar(20) NOT NULL,
         job_count bigint NOT NULL, PRIMARY KEY (client_id, status))`,
    );
    if (postgres) await queryRunner.query('LOCK TABLE jobs IN SHARE MODE');
    await dropCountTriggers(queryRunner, postgres);
    await queryRunner.query(
      "INSERT INTO job_counts (client_id, status, job_count) SELECT 'default', status, job_count FROM job_status_counts",
    );
    for (const statement of postgres ? POSTGRES_TRIGGERS : SQLITE_TRIGGERS) await queryRunner.query(statement);
    await queryRunner.query('DROP TABLE job_status_counts');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query(
      'CREATE TABLE job_status_counts (status varchar(20) PRIMARY KEY, job_count bigint NOT NULL)',
    );
    if (postgres) await queryRunner.query('LOCK TABLE jobs IN SHARE MODE');
    await dropCountTriggers(queryRunner, postgres);
    await queryRunner.query(
      'INSERT INTO job_status_counts (status, job_count) SELECT status, SUM(job_count) FROM job_counts GROUP BY status',
    );
    for (const statement of postgres ? OLD_POSTGRES_TRIGGERS : OLD_SQLITE_TRIGGERS) await queryRunner.query(statement);
    await queryRunner.query('DROP TABLE job_counts');
    await queryRunner.query('DROP INDEX idx_jobs_client_change');
    await queryRunner.query('DROP INDEX idx_jobs_client_status_created');
    await queryRunner.query('DROP INDEX idx_jobs_client_created');
    await queryRunner.query(
      'UPDATE jobs SET idempotency_key = substr(idempotency_key, length(client_id) + 2) WHERE idempotency_key IS NOT NULL',
    );
    await queryRunner.query('ALTER TABLE delivery_attempts DROP COLUMN client_id');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN client_id');
    await queryRunner.query('DROP TABLE client_signing_secrets');
    await queryRunner.query('DROP TABLE client_api_keys');
    await queryRunner.query('DROP TABLE clients');
  }
}

async function dropCountTriggers(queryRunner: QueryRunner, postgres: boolean): Promise<void> {
  for (const name of ['trg_job_counts_insert', 'trg_job_counts_update', 'trg_job_counts_delete']) {
    await queryRunner.query(postgres ? `DROP TRIGGER ${name} ON jobs` : `DROP TRIGGER ${name}`);
  }
  if (postgres) {
    for (const operation of OPERATIONS) await queryRunner.query(`DROP FUNCTION relay_job_counts_${operation}()`);
  }
}

const OPERATIONS = ['insert', 'update', 'delete'] as const;
type Operation = (typeof OPERATIONS)[number];

interface CounterTable {
  table: string;
  /** The counter's key columns, in the order the PostgreSQL triggers lock the rows. */
  keys: string[];
}
const NEW_COUNTERS: CounterTable = { table: 'job_counts', keys: ['client_id', 'status'] };
const OLD_COUNTERS: CounterTable = { table: 'job_status_counts', keys: ['status'] };

function sqliteTriggers({ table, keys }: CounterTable): string[] {
  const add = (row: string) =>
    `INSERT INTO ${table} (${keys.join(', ')}, job_count) VALUES (${keys.map((key) => `${row}.${key}`).join(', ')}, 1)
       ON CONFLICT (${keys.join(', ')}) DO UPDATE SET job_count = ${table}.job_count + 1;`;
  const remove = (row: string) =>
    `UPDATE ${table} SET job_count = job_count - 1 WHERE ${keys.map((key) => `${key} = ${row}.${key}`).join(' AND ')};`;
  return [
    `CREATE TRIGGER trg_job_counts_insert AFTER INSERT ON jobs BEGIN ${add('NEW')} END`,
    `CREATE TRIGGER trg_job_counts_update AFTER UPDATE OF status ON jobs WHEN OLD.status <> NEW.status
       BEGIN ${remove('OLD')} ${add('NEW')} END`,
    `CREATE TRIGGER trg_job_counts_delete AFTER DELETE ON jobs BEGIN ${remove('OLD')} END`,
  ];
}

function postgresTriggers({ table, keys }: CounterTable): string[] {
  const columns = keys.join(', ');
  const changes: Record<Operation, string> = {
    insert: `SELECT ${columns}, 1 AS delta FROM new_rows`,
    update: `SELECT ${columns}, 1 AS delta FROM new_rows UNION ALL SELECT ${columns}, -1 AS delta FROM old_rows`,
    delete: `SELECT ${columns}, -1 AS delta FROM old_rows`,
  };
  const fn = (operation: Operation) =>
    `CREATE FUNCTION relay_job_counts_${operation}() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE
       change record;
     BEGIN
       FOR change IN
         SELECT ${columns}, SUM(delta) AS delta FROM (${changes[operation]}) AS changes
         GROUP BY ${columns} HAVING SUM(delta) <> 0 ORDER BY ${columns}
       LOOP
         INSERT INTO ${table} (${columns}, job_count) VALUES (${keys.map((key) => `change.${key}`).join(', ')}, change.delta)
           ON CONFLICT (${columns}) DO UPDATE SET job_count = ${table}.job_count + EXCLUDED.job_count;
       END LOOP;
       RETURN NULL;
     END $$`;
  return [
    ...OPERATIONS.map(fn),
    `CREATE TRIGGER trg_job_counts_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION relay_job_counts_insert()`,
    `CREATE TRIGGER trg_job_counts_update AFTER UPDATE ON jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION relay_job_counts_update()`,
    `CREATE TRIGGER trg_job_counts_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows
       FOR EACH STATEMENT EXECUTE FUNCTION relay_job_counts_delete()`,
  ];
}

const SQLITE_TRIGGERS = sqliteTriggers(NEW_COUNTERS);
const POSTGRES_TRIGGERS = postgresTriggers(NEW_COUNTERS);
const OLD_SQLITE_TRIGGERS = sqliteTriggers(OLD_COUNTERS);
const OLD_POSTGRES_TRIGGERS = postgresTriggers(OLD_COUNTERS);
