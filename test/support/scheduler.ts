import type { INestApplicationContext } from '@nestjs/common';
import { WorkScheduler } from '../../src/scheduler/work.scheduler';
import { WorkSignal } from '../../src/scheduler/work-signal';

/**
 * The one place the tests reach the relay's scheduler (so that moving it in src/ is a one-line change here).
 * Negative checks ("nothing more was sent") wait for it to settle instead of sleeping.
 */
export type { WorkScheduler };

export function schedulerOf(app: INestApplicationContext): WorkScheduler {
  return app.get(WorkScheduler);
}

/**
 * Resolves once the scheduler has no tick running, no kick pending and no attempt in flight: whatever the relay was
 * going to send by itself has been sent (work due later, after a backoff, is not waited for).
 */
export function settled(app: INestApplicationContext): Promise<void> {
  return schedulerOf(app).settled();
}

/**
 * For a check that something is NOT sent again after a retry delay: settles, lets `ms` pass (the longest delay the
 * test's configuration allows for the retry that must not come), then forces a tick and settles again, so any work
 * due by then has been claimed and finished, whatever the scheduler's interval.
 */
export async function settledPast(app: INestApplicationContext, ms: number): Promise<void> {
  const until = Date.now() + ms;
  const scheduler = schedulerOf(app);
  await scheduler.settled();
  const left = until - Date.now();
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
  app.get(WorkSignal).kick();
  await scheduler.settled();
}
