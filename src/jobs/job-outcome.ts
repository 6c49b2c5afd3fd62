import { canonicalJson, sha256Hex } from '../common/canonical-json';
import type { JobError } from './job.entity';
import type { JobOutcome } from './jobs.service';

export type FailureCode = 'forward_failed' | 'llm_timeout' | 'llm_error';

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

export function failureOutcome(code: FailureCode, message: string): JobOutcome {
  return outcomeOf(false, null, { code, message });
}
