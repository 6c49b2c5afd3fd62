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
