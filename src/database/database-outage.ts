/** How long a client should wait before retrying a request refused because the database did not answer. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * PostgreSQL SQLSTATEs that mean "the database is (for now) not there", not "this statement is wrong": class 08
 * (connection exceptions), the server shutting down or starting up (57P01–57P03), too many connections (53300) and
 * statement_timeout (57014: DATABASE_STATEMENT_TIMEOUT_MS ran out). SQLite's busy timeout ending is the same story.
 */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '57014', 'SQLITE_BUSY']);
/** What the socket says when the server is gone or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/** node-postgres and pg-pool throw these without a code. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|Connection ended|not queryable|timeout exceeded when trying to connect|terminating connection|the database system is (starting up|shutting down)/i;

/**
 * True when an error from TypeORM or the driver means the database did not answer (stopped, restarting, unreachable,
 * overloaded), so the request may succeed later: such errors become 503 at the edge, and an attempt's last write
 * waits for the database instead of being given up. Looks through QueryFailedError's driverError and `cause`.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth += 1) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || NETWORK_CODES.has(code) || code.startsWith('08')))
      return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
    const nested = current as { driverError?: unknown; cause?: unknown };
    current = nested.driverError ?? nested.cause;
  }
  return false;
}

/**
 * Runs `write` again while the database is unavailable, until `deadline` (epoch ms) has passed. For the write that
 * records an attempt's outcome after the HTTP call: giving up would leave the job leased until the lease runs out,
 * and the attempt (a delivery the receiver already acknowledged) would be made a second time. Past the lease the
 * write is fenced out anyway, so waiting longer gains nothing.
 */
export async function retryWhileUnavailable<T>(write: () => Promise<T>, deadline: number, pauseMs = 250): Promise<T> {
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + pauseMs >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
