import { type ClientTurns, takeTurns } from './fair-turns';

const client = (clientId: string, fields: Partial<ClientTurns> = {}): ClientTurns => ({
  clientId,
  weight: 1,
  maxInFlight: 0,
  inFlight: 0,
  due: 1_000,
  credit: 0,
  ...fields,
});

/** `turns` batches of one slot each, carrying the credits from batch to batch as the database does. */
function oneAtATime(clients: ClientTurns[], turns: number): string[] {
  const order: string[] = [];
  for (let turn = 0; turn < turns; turn += 1) {
    const { taken, credits } = takeTurns(clients, 1);
    for (const entry of clients) {
      entry.credit = credits.get(entry.clientId) ?? entry.credit;
      const count = taken.get(entry.clientId) ?? 0;
      if (count > 0) order.push(entry.clientId);
      entry.due -= count;
    }
  }
  return order;
}

const tally = (order: string[]) =>
  order.reduce((counts, id) => ({ ...counts, [id]: (counts[id] ?? 0) + 1 }), {} as Record<string, number>);

describe('takeTurns (smooth weighted round-robin)', () => {
  it('gives weights 3 and 1 three turns of every four, spread out, one slot at a time or all at once', () => {
    const order = oneAtATime([client('a', { weight: 3 }), client('b')], 32);
    expect(tally(order)).toEqual({ a: 24, b: 8 });
    for (let start = 0; start < 32; start += 4) expect(tally(order.slice(start, start + 4))).toEqual({ a: 3, b: 1 });
    expect(Object.fromEntries(takeTurns([client('a', { weight: 3 }), client('b')], 32).taken)).toEqual({ a: 24, b: 8 });
  });

  it('alternates equal weights, so a late client with 4 jobs gets them within its next 8 turns', () => {
    const clients = [client('a', { due: 50 }), client('b', { due: 4 })];
    const order = oneAtATime(clients, 10);
    expect(order.slice(0, 8).filter((id) => id === 'b')).toHaveLength(4);
  });

  it('skips a client with nothing due or at its own max_in_flight, and the turns go to the others', () => {
    const { taken } = takeTurns(
      [client('a', { due: 0 }), client('b', { maxInFlight: 2, inFlight: 1 }), client('c')],
      5,
    );
    expect(Object.fromEntries(taken)).toEqual({ b: 1, c: 4 });
  });

  it('a client that sat out earns no credit for later: it is owed nothing when it comes back', () => {
    const a = client('a');
    const b = client('b', { due: 0 });
    oneAtATime([a, b], 20);
    expect(b.credit).toBeLessThanOrEqual(0);
    b.due = 10;
    const order = oneAtATime([a, b], 6);
    expect(tally(order)).toEqual({ a: 3, b: 3 });
  });

  it('stops when nobody can take a turn, and changes only the credits that moved', () => {
    const { taken, credits } = takeTurns([client('a', { due: 1 }), client('idle', { due: 0 })], 3);
    expect(Object.fromEntries(taken)).toEqual({ a: 1 });
    expect([...credits.keys()]).toEqual([]);
  });
});
