import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { PublicUrls } from '../config/public-urls';
import type { Job } from '../jobs/job.entity';
import { AgentPair, destroyAgents, trustedAgents } from '../scheduler/http-agents';
import { OutboundResponse, postJson } from '../scheduler/outbound-http';
import { LlmPace } from './llm-pace';

/** Where the built-in simulated LLM listens inside this process when LLM_API_URL is unset. */
export const SIMULATED_LLM_PREFIX = '/simulated-llm';

/** Sends review jobs and cancel notices to the LLM server, and learns its pace from every answer to a forward. */
@Injectable()
export class LlmServerClient {
  private readonly agents: AgentPair = trustedAgents();

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    private readonly urls: PublicUrls,
    readonly pace: LlmPace,
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

  /** Where a cancellation is sent (LLM_CANCEL_PATH, `{job_id}` filled in); only asked when it is configured. */
  cancelTarget(jobId: string): string {
    const path = this.config.llmCancelPath;
    if (path === null) throw new Error('a cancel notice is being sent without LLM_CANCEL_PATH');
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

  async forward(job: Job, callbackToken: string): Promise<OutboundResponse> {
    const body = {
      job_id: job.id,
      submission_id: job.submissionId,
      student_id: job.studentId,
      file_refs: job.fileRefs,
      metadata: job.metadata ?? {},
      callback_url: this.urls.callbackUrl(job.id, callbackToken),
      callback_token: callbackToken,
    };
    const response = await postJson({
      url: this.target(),
      body: JSON.stringify(body),
      headers: this.headers(),
      deadlineMs: this.config.outboundTimeoutMs,
      agents: this.agents,
    });
    this.pace.observe(response);
    return response;
  }

  /** Ends every connection, cutting off the requests still in flight (the scheduler's cutOff, after its drain). */
  cutOff(): void {
    destroyAgents(this.agents);
  }
}
