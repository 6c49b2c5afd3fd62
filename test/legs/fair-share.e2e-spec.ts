import { describeFairShare } from '../support/fair-share';

describe('a fair share of the LLM for each client, priorities and limits per client (SQLite)', () => {
  describeFairShare({ replicas: 1, database: () => Promise.resolve({ env: {}, drop: () => Promise.resolve() }) });
});
