import { format } from 'node:util';

const METHODS = ['log', 'info', 'warn', 'error'] as const;

/**
 * Holds back the console lines a test provokes on purpose (TypeORM logs each failed query with console.log, e.g. after
 * a test closed the database under the relay), so a passing run stays quiet. Any line matching none of `expected`
 * goes to the console as usual: nothing unexpected is hidden. Call the returned function to stop; it gives back the
 * lines held.
 */
export function holdExpectedConsoleNoise(expected: RegExp[]): () => string[] {
  const held: string[] = [];
  const originals = METHODS.map((method) => [method, console[method]] as const);
  for (const [method, original] of originals) {
    console[method] = (...args: unknown[]) => {
      const line = format(...args);
      if (expected.some((pattern) => pattern.test(line))) held.push(line);
      else original.apply(console, args);
    };
  }
  return () => {
    for (const [method, original] of originals) console[method] = original;
    return held;
  };
}

/** What TypeORM prints when a query fails: the statement, then the driver's error. */
export const queryFailed = (error: RegExp): RegExp[] => [/query failed: /, new RegExp(`error: .*${error.source}`)];
