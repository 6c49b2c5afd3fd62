import { assertTransition, canTransition, JOB_STATUSES, JobStatus } from './job-status';

const LEGAL: [JobStatus, JobStatus][] = [
  ['queued', 'processing'],
  ['queued', 'delivering'],
  ['processing', 'delivering'],
  // Its callback deadline passed: forwarded again (LLM_CALLBACK_TIMEOUT_RETRIES).
  ['processing', 'queued'],
  ['delivering', 'delivered'],
  ['delivering', 'delivery_failed'],
  ['delivered', 'delivering'],
  ['delivery_failed', 'delivering'],
  ['queued', 'cancelled'],
  ['processing', 'cancelled'],
  ['delivering', 'cancelled'],
];

describe('job status transitions', () => {
  const all = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as [JobStatus, JobStatus]));

  it.each(all)('%s → %s is legal only if listed', (from, to) => {
    const legal = LEGAL.some(([a, b]) => a === from && b === to);
    expect(canTransition(from, to)).toBe(legal);
    if (legal) expect(() => assertTransition(from, to)).not.toThrow();
    else expect(() => assertTransition(from, to)).toThrow(`Illegal job transition ${from} → ${to}`);
  });
});
