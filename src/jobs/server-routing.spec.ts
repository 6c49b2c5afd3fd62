import { pickServer, roomAt } from './server-routing';

describe('pickServer and roomAt', () => {
  it('goes to the lowest jobs-at-it over weight, skips full servers, and counts each pick at once', () => {
    const servers = [
      { name: 'a', maxInFlight: 3, weight: 1 },
      { name: 'b', maxInFlight: 0, weight: 2 },
    ];
    const at = new Map([['a', 1]]);
    const picks = Array.from({ length: 6 }, () => pickServer(servers, at));
    expect(picks.filter((name) => name === 'a')).toHaveLength(2);
    expect(picks.filter((name) => name === 'b')).toHaveLength(4);
    expect(at.get('a')).toBe(3);
    expect(pickServer([servers[0]], at)).toBeNull();
  });

  it('gives a half-open server (batch limit 1) one forward per claim', () => {
    const servers = [
      { name: 'probe', maxInFlight: 0, weight: 100, batchLimit: 1 },
      { name: 'b', maxInFlight: 0, weight: 1 },
    ];
    const at = new Map<string, number>();
    const picked = new Map<string, number>();
    const picks = Array.from({ length: 4 }, () => pickServer(servers, at, picked));
    expect(picks).toEqual(['probe', 'b', 'b', 'b']);
  });

  it('adds up the room of capped servers, and has no bound once one is uncapped', () => {
    const at = new Map([
      ['a', 2],
      ['b', 5],
    ]);
    expect(
      roomAt(
        [
          { name: 'a', maxInFlight: 3, weight: 1 },
          { name: 'b', maxInFlight: 4, weight: 1 },
        ],
        at,
      ),
    ).toBe(1);
    expect(roomAt([{ name: 'a', maxInFlight: 3, weight: 1, batchLimit: 1 }], new Map())).toBe(1);
    expect(
      roomAt(
        [
          { name: 'a', maxInFlight: 3, weight: 1 },
          { name: 'c', maxInFlight: 0, weight: 1 },
        ],
        at,
      ),
    ).toBe(Number.POSITIVE_INFINITY);
  });
});
