import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { CONFIG, type RelayConfig } from '../config/config';

/** The window the delay is judged over: long enough to smooth a GC pause, short enough to react within a second. */
const WINDOW_MS = 500;
/** The histogram's sampling interval: what it records is this plus the lateness. */
const RESOLUTION_MS = 10;

/**
 * How late the event loop runs, over the last window: the p99 of the timer delay sampled every 10 ms. Intake
 * admission reads it (INTAKE_MAX_EVENT_LOOP_DELAY_MS); `/metrics` has prom-client's own `nodejs_eventloop_lag_*`.
 * Sampling costs one timer every 10 ms, and only runs when that limit is set; the window's figure is computed once
 * per window, never per request.
 */
@Injectable()
export class EventLoopLoad implements OnModuleDestroy {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly timer: NodeJS.Timeout | null = null;
  private windowP99Ms = 0;

  constructor(@Inject(CONFIG) config: RelayConfig) {
    if (config.intakeMaxEventLoopDelayMs === 0) return;
    this.histogram.enable();
    this.timer = setInterval(() => this.closeWindow(), WINDOW_MS).unref();
  }

  /** The last window's p99 delay in ms. */
  get delayMs(): number {
    return this.windowP99Ms;
  }

  private closeWindow(): void {
    this.windowP99Ms = this.histogram.count > 0 ? Math.max(0, this.histogram.percentile(99) / 1e6 - RESOLUTION_MS) : 0;
    this.histogram.reset();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.histogram.disable();
  }
}
