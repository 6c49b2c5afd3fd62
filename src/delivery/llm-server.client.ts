import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { PublicUrls } from '../config/public-urls';
import type { Job } from '../jobs/job.entity';
import { AgentPair, destroyAgents, trustedAgents } from './http-agents';
import { OutboundResponse, postJson } from './outbound-http';

/** Where the built-in simulated LLM listens inside this process when LLM_API_URL is unset. */
export const SIMULATED_LLM_PREFIX = '/simulated-llm';

/** Sends review jobs to the LLM server. */
@Injectable()
export class LlmServerClient implements BeforeApplicationShutdown {
  private readonly agents: AgentPair = trustedAgents();

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    private readonly urls: PublicUrls,
  ) {}

  /** The forward URL without query, as shown in the job's timeline. */
  target(): string {
    return `${this.base()}${this.config.llmForwardPath}`;
  }

  private base(): string {
    const base = this.config.llmApiUrl ?? `${this.urls.loopbackBaseUrl()}${SIMULATED_LLM_PREFIX}`;
    return base.replace(/\/+$/, '');
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': 'llm-relay' };
    if (this.config.llmApiKey) headers.authorization = `Bearer ${this.config.llmApiKey}`;
    return headers;
  }

  /** Where a cancellation is sent (LLM_CANCEL_PATH, `{job_id}` filled in), or null when none is configured. */
  cancelTarget(jobId: string): string | null {
    const path = this.config.llmCancelPath;
    if (path === null) return null;
    return `${this.base()}${path.replaceAll('{job_id}', encodeURIComponent(jobId))}`;
  }

  /** Tells the LLM at `target` (see cancelTarget) to stop working on a cancelled job. */
  cancel(job: Job, target: string): Promise<OutboundResponse> {
    return postJson({
      url: target,
      body: JSON.stringify({ job_id: job.id, submission_id: job.submissionId }),
      headers: this.headers(),
      deadlineMs: this.config.outboundTimeoutMs,
      agents: this.agents,
    });
  }

  forward(job: Job, callbackToken: string): Promise<OutboundResponse> {
    const body = {
      job_id: job.id,
      submission_id: job.submissionId,
      student_id: job.studentId,
      file_refs: job.fileRefs,
      metadata: job.metadata ?? {},
      callback_url: this.urls.callbackUrl(job.id, callbackToken),
      callback_token: callbackToken,
    };
    return postJson({
      url: this.target(),
      body: JSON.stringify(body),
      headers: this.headers(),
      deadlineMs: this.config.outboundTimeoutMs,
      agents: this.agents,
    });
  }

  /**
   * Runs after the scheduler's own beforeApplicationShutdown (its drain), since Nest shuts dependents down before their
   * dependencies; cuts off the attempts that outlived the grace period.
   */
  beforeApplicationShutdown(): void {
    destroyAgents(this.agents);
  }
}
