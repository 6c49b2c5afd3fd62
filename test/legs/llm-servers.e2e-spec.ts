import { describeLlmServers } from '../support/llm-servers-scenarios';

describe('several LLM servers: capacity, failover, circuits, pauses, health, cancel notices (SQLite)', () => {
  describeLlmServers({ database: () => Promise.resolve({ env: {}, drop: () => Promise.resolve() }) });
});
