import { Injectable } from '@nestjs/common';

/**
 * The small face of the scheduler that intake, callbacks and health see: "there is work now" (kick) and "the relay is
 * draining" (after SIGTERM). The scheduler listens to it; nothing else needs the scheduler itself.
 */
@Injectable()
export class WorkSignal {
  private listener: (() => void) | null = null;
  private draining = false;

  /** Look for due work now instead of at the next tick (after intake, a callback, a cancel or a redeliver). */
  kick(): void {
    if (!this.draining) this.listener?.();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** For the scheduler: what a kick runs. */
  listen(listener: () => void): void {
    this.listener = listener;
  }

  /** For the scheduler, on shutdown: no more kicks, and readiness answers 503. */
  beginDrain(): void {
    this.draining = true;
  }
}
