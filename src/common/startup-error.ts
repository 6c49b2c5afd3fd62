/**
 * A refusal to start that the message fully explains (port taken, database in use): main.ts prints the message
 * alone, without a stack, and exits non-zero.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/**
 * How a command that failed to start ends: a StartupError's message alone, anything else with its stack, exit 1.
 * (An invalid configuration exits 78 before this, with its own list of problems.)
 */
export function exitOnStartFailure(what: string, error: Error): never {
  const detail = error instanceof StartupError ? error.message : (error.stack ?? error.message);
  process.stderr.write(`${what}: ${detail}\n`);
  process.exit(1);
}
