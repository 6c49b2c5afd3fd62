import { type FakeHandler, postJson } from './fake-server';

/** What a capacity-limited fake LLM saw. */
export interface CapacityLlmState {
  /** Jobs it holds now (accepted, not yet called back). */
  holding: Set<string>;
  /** The most jobs it held at once. */
  peak: number;
  /** Forwards it refused with 429 because it was full. */
  refused: number;
  /** Job ids in the order it accepted them. */
  accepted: string[];
}

/**
 * An LLM server with room for `capacity` jobs: it answers 429 (Retry-After: 1) beyond that, and calls each accepted
 * job back with `result` after `holdMs`, letting go of it just before the callback (so the relay, which counts a
 * job until its callback is recorded, never sees fewer than the LLM holds).
 */
export function capacityLlm(
  capacity: number,
  holdMs: number,
  result: unknown = { score: 0.5 },
): { handler: FakeHandler; state: CapacityLlmState } {
  const state: CapacityLlmState = { holding: new Set(), peak: 0, refused: 0, accepted: [] };
  const handler: FakeHandler = (request) => {
    if (request.method !== 'POST' || !request.json?.callback_url) return { status: 404 };
    if (state.holding.size >= capacity) {
      state.refused += 1;
      return { status: 429, headers: { 'retry-after': '1' } };
    }
    const jobId: string = request.json.job_id;
    state.holding.add(jobId);
    state.peak = Math.max(state.peak, state.holding.size);
    state.accepted.push(jobId);
    setTimeout(() => {
      state.holding.delete(jobId);
      void postJson(request.json.callback_url, { ok: true, result }).catch(() => undefined);
    }, holdMs);
    return { status: 202 };
  };
  return { handler, state };
}
