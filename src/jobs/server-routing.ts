/** An LLM server a forward may go to now (available on this replica), with its capacity and weight. */
export interface ServerSlot {
  name: string;
  /** Its capacity across replicas (0: no limit). */
  maxInFlight: number;
  weight: number;
  /** At most this many forwards in one claim (a half-open circuit's one probe); undefined: no such limit. */
  batchLimit?: number;
}

/** Whether routing needs the database's counts: more than one server to choose from, or a capacity to keep. */
export const routingCounts = (servers: readonly ServerSlot[]): boolean =>
  servers.length > 1 || servers.some((server) => server.maxInFlight > 0);

/** How many more forwards these servers take now (Infinity when one has no capacity limit). */
export function roomAt(servers: readonly ServerSlot[], atServer: ReadonlyMap<string, number>): number {
  let room = 0;
  for (const server of servers) {
    const capacity =
      server.maxInFlight === 0
        ? Number.POSITIVE_INFINITY
        : Math.max(0, server.maxInFlight - (atServer.get(server.name) ?? 0));
    room += Math.min(capacity, server.batchLimit ?? Number.POSITIVE_INFINITY);
  }
  return room;
}

/**
 * The server the next forward goes to: among those below their capacity, the lowest jobs-at-it divided by weight
 * (the first listed on a tie); it is counted at once in `atServer`, so successive picks spread. Null when all are full.
 */
export function pickServer(
  servers: readonly ServerSlot[],
  atServer: Map<string, number>,
  picked: Map<string, number> = new Map(),
): string | null {
  let best: ServerSlot | null = null;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (const server of servers) {
    const count = atServer.get(server.name) ?? 0;
    if (server.maxInFlight > 0 && count >= server.maxInFlight) continue;
    if (server.batchLimit !== undefined && (picked.get(server.name) ?? 0) >= server.batchLimit) continue;
    const load = count / server.weight;
    if (load < bestLoad) {
      best = server;
      bestLoad = load;
    }
  }
  if (best === null) return null;
  atServer.set(best.name, (atServer.get(best.name) ?? 0) + 1);
  picked.set(best.name, (picked.get(best.name) ?? 0) + 1);
  return best.name;
}

/** Where a failover went: a server, or nowhere because every candidate was full (null: the claim was lost). */
export type MoveOutcome = { to: string } | 'full' | null;
