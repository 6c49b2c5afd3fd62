import { canonicalJson, sha256Hex } from '../common/canonical-json';
import type { JobError } from './job.entity';

/** What an attempt or a callback came to: the result or failure that will be delivered. */
export interface JobOutcome {
  ok: boolean;
  result: unknown;
  error: JobError | null;
  outcomeHash: string;
}

export type FailureCode = 'forward_failed' | 'llm_timeout' | 'llm_error' | 'invalid_result';

/** An outcome and its fingerprint: a repeated callback with the same fingerprint is the same result. */
export function outcomeOf(ok: boolean, result: unknown, error: JobError | null): JobOutcome {
  const normalisedResult = result === undefined ? null : result;
  return {
    ok,
    result: normalisedResult,
    error,
    outcomeHash: sha256Hex(canonicalJson({ ok, result: normalisedResult, error })),
  };
}

/** How an `invalid_result` failure's message begins; the latest rejection's description follows (see JobsService). */
export const INVALID_RESULT_MESSAGE =
  'No valid result came before the callback deadline; the last result broke the result schema: ';

export function failureOutcome(code: FailureCode, message: string): JobOutcome {
  return outcomeOf(false, null, { code, message });
}
