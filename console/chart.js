// The per-minute chart's scale and geometry, kept apart from the drawing so it can be tested.

/** The smallest 1, 2 or 5 × 10^k at or above the value (at least 1): round numbers for the axis. */
export function niceMax(value) {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

/**
 * Bars for the minutes, delivered stacked under failed, in a viewBox of `width` × `height`. Each bar's height is
 * proportional to its count against the axis maximum; a non-zero count gets at least one unit, so it stays visible.
 */
export function chartGeometry(minutes, { width = 600, height = 120 } = {}) {
  const max = niceMax(Math.max(0, ...minutes.map((m) => m.delivered + m.failed)));
  const slot = minutes.length === 0 ? width : width / minutes.length;
  const barWidth = Math.max(1, slot * 0.8);
  const scale = (count) => (count === 0 ? 0 : Math.max(1, (count / max) * height));
  const bars = minutes.map((minute, i) => {
    const deliveredHeight = scale(minute.delivered);
    const failedHeight = scale(minute.failed);
    const x = i * slot + (slot - barWidth) / 2;
    return {
      minute: minute.minute,
      x,
      width: barWidth,
      delivered: { y: height - deliveredHeight, height: deliveredHeight, count: minute.delivered },
      failed: { y: height - deliveredHeight - failedHeight, height: failedHeight, count: minute.failed },
    };
  });
  const totals = minutes.reduce(
    (sum, m) => ({
      delivered: sum.delivered + m.delivered,
      failed: sum.failed + m.failed,
      gaveUp: sum.gaveUp + (m.gave_up || 0),
    }),
    { delivered: 0, failed: 0, gaveUp: 0 },
  );
  return { max, width, height, bars, totals };
}
