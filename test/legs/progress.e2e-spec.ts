import { describeProgress } from '../support/progress-scenarios';

describe('progress from the LLM server keeps a long job alive (SQLite)', () => {
  describeProgress({ database: () => Promise.resolve({ env: {}, drop: () => Promise.resolve() }) });
});
