import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { LlmCallbackService } from '../llm-callback/llm-callback.service';
import { simulatedReview } from './simulated-review';

/**
 * Plays the LLM server inside the process: after SIMULATION_DELAY_MS it answers through the real callback path,
 * credential check included, so `npm start` alone completes whole cycles.
 */
@Injectable()
export class SimulatedLlmServer implements OnModuleDestroy {
  private readonly logger = new Logger(SimulatedLlmServer.name);
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly callbacks: LlmCallbackService,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  scheduleCallback(jobId: string, callbackToken: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.callbacks
        .acceptCallback(jobId, callbackToken, { ok: true, result: simulatedReview(jobId) })
        .catch((error: Error) => this.logger.warn(`simulated callback for ${jobId} failed: ${error.message}`));
    }, this.config.simulationDelayMs);
    this.timers.add(timer);
  }

  onModuleDestroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
