// Figures as the benchmark reports them: each the median of its rounds, with min and max.
const sortNumbers = (values) => [...values].sort((a, b) => a - b);

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = sortNumbers(values);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function spread(values) {
  const sorted = sortNumbers(values.filter((value) => value !== null && Number.isFinite(value)));
  if (sorted.length === 0) return { median: null, min: null, max: null, runs: [] };
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: values };
}

const show = (value, digits) => (value === null || value === undefined ? '–' : Number(value).toFixed(digits));

/** Rows of [label, spread or value, unit, digits] as an aligned text table. */
function table(rows) {
  const lines = rows.map(([label, figure, unit, digits = 0]) => {
    if (figure && typeof figure === 'object' && 'median' in figure) {
      const range =
        figure.runs.length > 1
          ? `  (min ${show(figure.min, digits)}, max ${show(figure.max, digits)}, n=${figure.runs.length})`
          : '';
      return [label, `${show(figure.median, digits)} ${unit}${range}`];
    }
    return [label, typeof figure === 'number' ? `${show(figure, digits)} ${unit}` : `${figure} ${unit}`];
  });
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, text]) => `${label.padEnd(width)}  ${text}`).join('\n');
}

/** Saves the results as .tmp/<prefix>-<time>.json and prints them as one JSON line with the file's path. */
function saveResults(prefix, results) {
  const fs = require('node:fs');
  const path = require('node:path');
  const file = path.resolve(__dirname, `../../.tmp/${prefix}-${results.when.replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  process.stdout.write(`${JSON.stringify(results)}\n\nwritten to ${path.relative(process.cwd(), file)}\n`);
}

/** Runs a benchmark's main function: a failure prints its stack and exits 1. */
function run(main) {
  main().catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  });
}

module.exports = { percentile, run, saveResults, spread, table };
