import { AdminCannotSubmitError, AdminKeyRequiredError, JobNotFoundError } from '../common/domain-errors';
import { type Client } from './client.entity';

/**
 * Who is asking, as the CallerGuard found from the request's key: an operator (an admin key, or anyone while no key
 * of any kind is configured: `open`), or one client.
 */
export type Caller =
  | { role: 'admin'; open: false }
  | { role: 'admin'; open: true; defaultClient: Client }
  | { role: 'client'; client: Client };

/** The client a submission belongs to: the caller's own; while the API is open, `default`. */
export function submittingClient(caller: Caller): Client {
  if (caller.role === 'client') return caller.client;
  if (caller.open) return caller.defaultClient;
  throw new AdminCannotSubmitError();
}

/**
 * Whose jobs a read covers: a client's own, always; an operator's, every client's or the one `requested`. A client
 * naming another client is refused the same way whichever client it names.
 */
export function readScope(caller: Caller, requested: string | undefined): string | undefined {
  if (caller.role === 'admin') return requested;
  if (requested !== undefined && requested !== caller.client.id) {
    throw new AdminKeyRequiredError("Filtering by another client's client_id");
  }
  return caller.client.id;
}

/** A job of another client is answered exactly as a job that does not exist. */
export function assertVisible<T extends { id: string; clientId: string }>(caller: Caller, job: T): T {
  if (caller.role === 'client' && job.clientId !== caller.client.id) throw new JobNotFoundError(job.id);
  return job;
}

export function assertAdmin(caller: Caller, what: string): void {
  if (caller.role !== 'admin' || caller.open) throw new AdminKeyRequiredError(what);
}
