import { chartGeometry, niceMax } from './chart.js';

const minute = (delivered: number, failed = 0, gave_up = 0, i = 0) => ({
  minute: new Date(Date.UTC(2026, 10, 27, 10, i)).toISOString(),
  delivered,
  failed,
  gave_up,
});

describe('per-minute chart', () => {
  it('rounds the scale up to 1, 2 or 5 × 10^k', () => {
    expect([0, 1, 2, 3, 7, 10, 11, 21, 99, 101, 4999].map(niceMax)).toEqual([
      1, 1, 2, 5, 10, 10, 20, 50, 100, 200, 5000,
    ]);
  });

  it('scales bars to the tallest minute, failed stacked on delivered', () => {
    const chart = chartGeometry([minute(5, 0), minute(3, 2, 1, 1), minute(0, 0, 0, 2), minute(10, 0, 0, 3)], {
      width: 400,
      height: 100,
    });
    expect(chart.max).toBe(10);
    expect(chart.bars).toHaveLength(4);
    const [first, second, empty, full] = chart.bars;
    expect(first.delivered).toEqual({ y: 50, height: 50, count: 5 });
    expect(first.failed.height).toBe(0);
    expect(second.delivered).toEqual({ y: 70, height: 30, count: 3 });
    expect(second.failed).toEqual({ y: 50, height: 20, count: 2 });
    expect(empty.delivered.height + empty.failed.height).toBe(0);
    expect(full.delivered).toEqual({ y: 0, height: 100, count: 10 });
    expect(chart.totals).toEqual({ delivered: 18, failed: 2, gaveUp: 1 });
  });

  it('places bars side by side within the width', () => {
    const chart = chartGeometry(
      Array.from({ length: 60 }, (_, i) => minute(1, 0, 0, i)),
      { width: 600, height: 120 },
    );
    expect(chart.bars[0].x).toBeCloseTo(1);
    expect(chart.bars[59].x + chart.bars[59].width).toBeCloseTo(599);
    expect(chart.bars.every((bar, i) => i === 0 || bar.x > chart.bars[i - 1].x + chart.bars[i - 1].width)).toBe(true);
  });

  it('keeps a single attempt visible beside a busy minute', () => {
    const chart = chartGeometry([minute(1000), minute(0, 1, 0, 1)], { width: 100, height: 100 });
    expect(chart.bars[1].failed.height).toBe(1);
  });

  it('draws an empty hour on a scale of 1', () => {
    const chart = chartGeometry(Array.from({ length: 60 }, (_, i) => minute(0, 0, 0, i)));
    expect(chart.max).toBe(1);
    expect(chart.bars.every((bar) => bar.delivered.height === 0 && bar.failed.height === 0)).toBe(true);
  });
});
