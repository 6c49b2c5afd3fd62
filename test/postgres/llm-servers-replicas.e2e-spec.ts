import { capacityLlm } from '../support/capacity-llm';
import { closeAfterEach } from '../support/cleanup';
import { FakeServer } from '../support/fake-server';
import { allDelivered, startFleet, submitMany } from '../support/llm-fleet';
import { describeLlmServers } from '../support/llm-servers-scenarios';
import { createTestDatabase, postgresReachable } from '../support/postgres';

(postgresReachable('the LLM-servers-on-replicas PostgreSQL suite') ? describe : describe.skip)(
  'several LLM servers on PostgreSQL',
  () => {
    describe("two replicas (a dead server's jobs move once)", () => {
      describeLlmServers({
        replicas: 2,
        database: async () => {
          const database = await createTestDatabase();
          return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
        },
      });
    });

    describe('one relay', () => {
      describeLlmServers({
        database: async () => {
          const database = await createTestDatabase();
          return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
        },
      });
    });

    const later = closeAfterEach();

    it('keeps each server within its capacity for both replicas together, and routes to both', async () => {
      const database = await createTestDatabase();
      later(() => database.drop());
      const [a, b] = [capacityLlm(2, 150), capacityLlm(2, 150)];
      const servers = [await FakeServer.start(a.handler), await FakeServer.start(b.handler)];
      for (const server of servers) later(() => server.close());
      const { stack, clients } = await startFleet(
        [
          { name: 'gpu-a', url: servers[0].url, max_in_flight: 2 },
          { name: 'gpu-b', url: servers[1].url, max_in_flight: 2 },
        ],
        later,
        { DATABASE_URL: database.url },
        2,
      );
      const ids = await submitMany(clients, 24);
      await allDelivered(stack, ids, 40_000);
      expect(a.state.peak).toBeLessThanOrEqual(2);
      expect(b.state.peak).toBeLessThanOrEqual(2);
      expect(a.state.refused + b.state.refused).toBe(0);
      expect(a.state.accepted.length).toBeGreaterThan(0);
      expect(b.state.accepted.length).toBeGreaterThan(0);
      expect(new Set([...a.state.accepted, ...b.state.accepted]).size).toBe(24);
    });
  },
);
