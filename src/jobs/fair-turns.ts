/**
 * The fair order of forwards: each free slot at the LLM is one turn of a smooth weighted round-robin (the one nginx
 * uses for upstreams) among the clients that can take it, i.e. that have a job due and are below their own
 * `max_in_flight`. At each turn every such client's credit grows by its weight, the one with the most credit takes the
 * turn, and its credit drops by the turn's total weight: with weights 3 and 1 both waiting, the first takes 3 of every
 * 4 turns, spread out (A A B A …). A client that cannot take the turn is skipped: its credit does not grow, and what it
 * was owed is dropped, so it earns nothing for later. The credits persist between batches (and replicas) in
 * `clients.fair_credit`.
 */
export interface ClientTurns {
  clientId: string;
  weight: number;
  /** 0: no cap of its own. */
  maxInFlight: number;
  /** Its jobs at the LLM now (processing, or with a forward in progress). */
  inFlight: number;
  /** Its jobs due for a forward now, as many as the batch could take at most. */
  due: number;
  credit: number;
}

export interface TurnsTaken {
  /** How many forwards each client takes in this batch (only clients that take one). */
  taken: Map<string, number>;
  /** The clients whose credit changed, and its new value. */
  credits: Map<string, number>;
}

/** Allocates up to `slots` turns among `clients` (listed in a stable order, which breaks ties). */
export function takeTurns(clients: readonly ClientTurns[], slots: number): TurnsTaken {
  const taken = new Map<string, number>();
  const credit = new Map(clients.map((client) => [client.clientId, client.credit]));
  const canTake = (client: ClientTurns): boolean => {
    const count = taken.get(client.clientId) ?? 0;
    return count < client.due && (client.maxInFlight === 0 || client.inFlight + count < client.maxInFlight);
  };
  for (let turn = 0; turn < slots; turn += 1) {
    const eligible = clients.filter(canTake);
    if (eligible.length === 0) break;
    for (const client of clients) {
      if (!eligible.includes(client)) credit.set(client.clientId, Math.min(credit.get(client.clientId)!, 0));
    }
    let total = 0;
    let best: ClientTurns | undefined;
    for (const client of eligible) {
      total += client.weight;
      credit.set(client.clientId, credit.get(client.clientId)! + client.weight);
      if (!best || credit.get(client.clientId)! > credit.get(best.clientId)!) best = client;
    }
    credit.set(best!.clientId, credit.get(best!.clientId)! - total);
    taken.set(best!.clientId, (taken.get(best!.clientId) ?? 0) + 1);
  }
  const credits = new Map<string, number>();
  for (const client of clients) {
    const now = credit.get(client.clientId)!;
    if (now !== client.credit) credits.set(client.clientId, now);
  }
  return { taken, credits };
}
