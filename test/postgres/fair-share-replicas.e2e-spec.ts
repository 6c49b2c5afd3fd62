import { describeFairShare } from '../support/fair-share';
import { createTestDatabase, postgresReachable } from '../support/postgres';

(postgresReachable('the fair-share-on-replicas PostgreSQL suite') ? describe : describe.skip)(
  'a fair share of the LLM for each client, priorities and limits per client: two replicas on PostgreSQL',
  () => {
    describeFairShare({
      replicas: 2,
      database: async () => {
        const database = await createTestDatabase();
        return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
      },
    });
  },
);
