import { DataSource } from 'typeorm';
import { SqlExecutor } from '../../src/database/sql-executor';
import { AttemptsRepository } from '../../src/jobs/attempts.repository';
import { ClaimsRepository } from '../../src/jobs/claims.repository';
import { Job } from '../../src/jobs/job.entity';
import { JobQueriesRepository } from '../../src/jobs/job-queries.repository';
import { JobWritesRepository } from '../../src/jobs/job-writes.repository';
import { JobsService, type NewJob } from '../../src/jobs/jobs.service';
import { relayDataSourceOptions } from '../../src/jobs/relay-data-source';

/**
 * The jobs core on a real SQLite `:memory:` database, migrated as the relay migrates its own: the unit tier's
 * stand-in for a running relay. Built by hand with the real classes (no Nest, no mocks).
 */
export interface MemoryJobs {
  dataSource: DataSource;
  sql: SqlExecutor;
  jobs: JobsService;
  claims: ClaimsRepository;
  queries: JobQueriesRepository;
  attempts: AttemptsRepository;
  /** The job row as stored now. */
  row(id: string): Promise<Job>;
  /** Stores a job with made-up fields (override any). */
  submit(fields?: Partial<NewJob>): Promise<string>;
  close(): Promise<void>;
}

export async function memoryJobs(): Promise<MemoryJobs> {
  const dataSource = await new DataSource(relayDataSourceOptions({ kind: 'sqlite', file: ':memory:' })).initialize();
  const sql = new SqlExecutor(dataSource);
  const claims = new ClaimsRepository(sql);
  const queries = new JobQueriesRepository(sql);
  const jobs = new JobsService(new JobWritesRepository(sql), claims, queries);
  let count = 0;
  return {
    dataSource,
    sql,
    jobs,
    claims,
    queries,
    attempts: new AttemptsRepository(sql),
    row: (id) => queries.getJob(id),
    async submit(fields = {}) {
      count += 1;
      const created = await jobs.create({
        clientId: 'default',
        priority: 1,
        submissionId: `subm-${count}`,
        studentId: null,
        fileRefs: [{ url: 'https://files.example.com/1.pdf' }],
        metadata: null,
        webhookUrl: 'https://web.example.com/hook',
        idempotencyKey: null,
        requestHash: 'hash',
        ...fields,
      });
      return created.id;
    },
    close: () => dataSource.destroy(),
  };
}
