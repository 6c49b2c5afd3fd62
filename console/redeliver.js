import { describeError, isActive, statusLabel } from './format.js';

const FOLLOW_MS = 1000;
const FOLLOW_LIMIT = 20;

/**
 * Redelivers a job and follows it until its delivery round ends (or 20 s pass), reporting each step through
 * `report(text, tone)`: what the API answered, then the job's status as it changes.
 */
export async function redeliverAndFollow(api, jobId, report, onUnauthorized) {
  report('redelivering…', 'busy');
  try {
    await api.redeliver(jobId);
  } catch (error) {
    if (error.status === 401) return onUnauthorized();
    return report(`refused: ${describeError(error)}`, 'error');
  }
  report('requeued: delivering…', 'busy');
  for (let i = 0; i < FOLLOW_LIMIT; i++) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS));
    let job;
    try {
      job = await api.job(jobId);
    } catch (error) {
      if (error.status === 401) return onUnauthorized();
      return report(`requeued; could not read it back: ${describeError(error)}`, 'error');
    }
    if (!isActive(job.status)) {
      return report(statusLabel(job.status), job.status === 'delivered' ? 'ok' : 'error');
    }
  }
  return report('requeued: still delivering (see its page)', 'busy');
}
