/**
 * A figure a test measured along the way (timings, counts), for whoever looks into performance: printed only with
 * RELAY_TEST_FIGURES=1, so that a passing run stays quiet. Benchmarks proper are scripts (`npm run bench`).
 */
export function reportFigure(line: string): void {
  if (process.env.RELAY_TEST_FIGURES === '1') process.stderr.write(`${line}\n`);
}
