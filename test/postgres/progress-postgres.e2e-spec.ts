import { describeProgress } from '../support/progress-scenarios';
import { createTestDatabase, postgresReachable } from '../support/postgres';

(postgresReachable('the progress suite on PostgreSQL') ? describe : describe.skip)(
  'progress from the LLM server keeps a long job alive (two replicas on PostgreSQL)',
  () => {
    describeProgress({
      replicas: 2,
      database: async () => {
        const database = await createTestDatabase();
        return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
      },
    });
  },
);
